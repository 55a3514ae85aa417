package sim

import (
	"fmt"
	"math"
)

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

// Shortfall describes, for a failure report, how far the state of s is
// from its task's success test: the effector's offset from the reach
// target, how far a pushed block still has to go, whether the block is
// held and high enough, where a placed block lies. It names the block the
// effector is over when that is not the target, since a policy that
// misreads the instruction goes to the wrong block.
func Shortfall(s *State) string {
	b := s.TargetBlock()
	e := s.Effector.Pos
	var msg string
	switch s.Task {
	case TaskReach:
		d := [3]float64{e[0] - b.Pos[0], e[1] - b.Pos[1], e[2] - (b.Pos[2] + BlockHalf + ReachHover)}
		msg = fmt.Sprintf("effector %.3f m from the reach target (dx %+.3f, dy %+.3f, dz %+.3f)",
			math.Sqrt(d[0]*d[0]+d[1]*d[1]+d[2]*d[2]), d[0], d[1], d[2])
	case TaskPush:
		msg = fmt.Sprintf("block moved %+.3f m right of %.2f m", b.Pos[0]-s.StartX, PushDistance)
	case TaskPick:
		if s.Held == s.Target {
			msg = fmt.Sprintf("block held, its bottom %.3f m below the lift height", LiftHeight-(b.Pos[2]-BlockHalf))
		} else {
			msg = fmt.Sprintf("block not held, effector %.3f m from it", dist3(e, b.Pos))
		}
	case TaskPlace:
		bin := BinOf(s.Bin)
		switch {
		case s.Held == s.Target:
			msg = "block still held"
		case bin.Contains(b.Pos[0], b.Pos[1]):
			msg = "block over the bin, not yet resting"
		default:
			msg = fmt.Sprintf("block %.3f m outside the %s bin", bin.distance(b.Pos[0], b.Pos[1]), s.Bin)
		}
	}
	if s.Held >= 0 && s.Held != s.Target {
		msg += fmt.Sprintf("; holding the %s block instead", s.Blocks[s.Held].Colour)
	} else if i := s.nearestBlock(); i != s.Target {
		msg += fmt.Sprintf("; effector over the %s block, not the %s one", s.Blocks[i].Colour, b.Colour)
	}
	return msg
}

// nearestBlock is the block whose centre is horizontally closest to the
// effector.
func (s *State) nearestBlock() int {
	best, bestD := 0, math.Inf(1)
	for i := range s.NumBlocks {
		p := s.Blocks[i].Pos
		if d := math.Hypot(p[0]-s.Effector.Pos[0], p[1]-s.Effector.Pos[1]); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func dist3(a, b [3]float64) float64 {
	x, y, z := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return math.Sqrt(x*x + y*y + z*z)
}
