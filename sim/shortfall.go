package sim

import (
	"fmt"
	"math"
)

// Shortfall is what a failed episode's task still lacked at its end: a
// short kind, to count failures by, and the numbers behind it.
type Shortfall struct {
	// Kind is one of the Shortfall* constants.
	Kind string
	// Detail gives the distances, in metres.
	Detail string
}

func (f Shortfall) String() string { return f.Kind + ": " + f.Detail }

// Shortfall kinds. A wrong block outranks the family's own kinds: a policy
// that misread the instruction went to, or took, another block.
const (
	ShortfallHoldingOther = "holding another block"
	ShortfallOverOther    = "over another block"
	ShortfallReachLow     = "below the reach target"
	ShortfallReachHigh    = "above the reach target"
	ShortfallReachSide    = "beside the reach target"
	ShortfallNotPushed    = "block not pushed"
	ShortfallPushedShort  = "block pushed short"
	ShortfallNotGrasped   = "block not grasped"
	ShortfallHeldLow      = "block held too low"
	ShortfallStillHeld    = "block still held"
	ShortfallNotResting   = "block not yet resting"
	ShortfallOutsideBin   = "block outside the bin"
	ShortfallNone         = "task solved"
)

// notPushed is how far a pushed block may move and still count as not
// pushed at all.
const notPushed = 0.05

// ShortfallOf reports how far the state of s is from its task's success
// test, for failure reports (see [Shortfall]).
func ShortfallOf(s *State) Shortfall {
	if Succeeded(s) {
		return Shortfall{Kind: ShortfallNone}
	}
	b := s.TargetBlock()
	e := s.Effector.Pos
	var f Shortfall
	switch s.Task {
	case TaskReach:
		t := reachTarget(b)
		d := [3]float64{e[0] - t[0], e[1] - t[1], e[2] - t[2]}
		f.Kind = ShortfallReachSide
		switch {
		case d[2] < -ReachRadius:
			f.Kind = ShortfallReachLow
		case d[2] > ReachRadius:
			f.Kind = ShortfallReachHigh
		}
		f.Detail = fmt.Sprintf("effector %.3f m from the reach target (dx %+.3f, dy %+.3f, dz %+.3f)",
			dist3(e, t), d[0], d[1], d[2])
	case TaskPush:
		moved := b.Pos[0] - s.StartX
		f.Kind = ShortfallPushedShort
		if moved < notPushed {
			f.Kind = ShortfallNotPushed
		}
		f.Detail = fmt.Sprintf("block moved %+.3f m right of %.2f m", moved, PushDistance)
	case TaskPick:
		if s.Held == s.Target {
			f.Kind = ShortfallHeldLow
			f.Detail = fmt.Sprintf("its bottom %.3f m below the lift height", LiftHeight-(b.Pos[2]-BlockHalf))
		} else {
			f.Kind = ShortfallNotGrasped
			f.Detail = fmt.Sprintf("effector %.3f m from the block", dist3(e, b.Pos))
		}
	case TaskPlace:
		bin := BinOf(s.Bin)
		switch {
		case s.Held == s.Target:
			f.Kind = ShortfallStillHeld
			f.Detail = fmt.Sprintf("block %.3f m outside the %s bin", bin.distance(b.Pos[0], b.Pos[1]), s.Bin)
		case bin.Contains(b.Pos[0], b.Pos[1]):
			f.Kind = ShortfallNotResting
			f.Detail = fmt.Sprintf("block %.3f m above the table", b.Pos[2]-BlockHalf)
		default:
			f.Kind = ShortfallOutsideBin
			f.Detail = fmt.Sprintf("block %.3f m outside the %s bin", bin.distance(b.Pos[0], b.Pos[1]), s.Bin)
		}
	}
	if s.Held >= 0 && s.Held != s.Target {
		f.Kind = ShortfallHoldingOther
		f.Detail += fmt.Sprintf("; holding the %s block, not the %s one", s.Blocks[s.Held].Colour, b.Colour)
	} else if i := s.nearestBlock(); i != s.Target {
		f.Kind = ShortfallOverOther
		f.Detail += fmt.Sprintf("; effector over the %s block, not the %s one", s.Blocks[i].Colour, b.Colour)
	}
	return f
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
