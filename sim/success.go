package sim

import "math"

// Success thresholds, in metres.
const (
	// ReachHover is the height above a block's top of the reach target.
	ReachHover = 0.08
	// ReachRadius is how close to the reach target the effector must be.
	ReachRadius = 0.05
	// LiftHeight is how high a held block's bottom must be for a pick.
	LiftHeight = 0.2
	// PushDistance is how far right a block must move for a push.
	PushDistance = 0.3
)

// Succeeded reports whether the task of s is solved in its current state.
func Succeeded(s *State) bool {
	b := s.TargetBlock()
	held := s.Held == s.Target
	switch s.Task {
	case TaskReach:
		e := s.Effector.Pos
		dz := e[2] - (b.Pos[2] + BlockHalf + ReachHover)
		return math.Hypot(math.Hypot(e[0]-b.Pos[0], e[1]-b.Pos[1]), dz) <= ReachRadius
	case TaskPick:
		return held && b.Pos[2]-BlockHalf >= LiftHeight
	case TaskPlace:
		return !held && b.Resting() && BinOf(s.Bin).Contains(b.Pos[0], b.Pos[1])
	case TaskPush:
		return !held && b.Resting() && b.Pos[0]-s.StartX >= PushDistance
	}
	return false
}
