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
		return dist3(s.Effector.Pos, reachTarget(b)) <= ReachRadius
	case TaskPick:
		return held && b.Pos[2]-BlockHalf >= LiftHeight
	case TaskPlace:
		return !held && b.Resting() && BinOf(s.Bin).Contains(b.Pos[0], b.Pos[1])
	case TaskPush:
		return !held && b.Resting() && b.Pos[0]-s.StartX >= PushDistance
	}
	return false
}

// reachTarget is the point a reach task brings the effector to: ReachHover
// above the top of block b.
func reachTarget(b Block) [3]float64 {
	return [3]float64{b.Pos[0], b.Pos[1], b.Pos[2] + BlockHalf + ReachHover}
}

// dist3 is the distance between a and b.
func dist3(a, b [3]float64) float64 {
	return math.Hypot(math.Hypot(a[0]-b[0], a[1]-b[1]), a[2]-b[2])
}
