package sim

// Phase names what the scripted expert is doing in a step. The zero value
// means unset.
type Phase int

// Expert phases. Approach, Carry, Lift and Retreat are free-space moves
// with large, steady actions; the others happen near contact and need
// slow, precise actions.
const (
	PhaseApproach Phase = 1 + iota
	PhaseAlign
	PhaseDescend
	PhaseGrasp
	PhaseLift
	PhaseCarry
	PhasePlace
	PhaseRelease
	PhasePush
	PhaseRetreat
)

var phaseNames = [...]string{"", "approach", "align", "descend", "grasp", "lift", "carry", "place", "release", "push", "retreat"}

// String returns the phase's short name.
func (p Phase) String() string {
	if p < PhaseApproach || p > PhaseRetreat {
		return "Phase(?)"
	}
	return phaseNames[p]
}

// NearContact reports whether p is one of the slow, precise phases near
// contact, where a policy has the hardest decisions to make.
func (p Phase) NearContact() bool {
	switch p {
	case PhaseAlign, PhaseDescend, PhaseGrasp, PhasePlace, PhaseRelease, PhasePush:
		return true
	}
	return false
}
