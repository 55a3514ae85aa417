package sim

import (
	"strings"
	"testing"
)

// TestShortfallOf: each family's failure kinds follow the success
// constants, the detail gives the distances, and a wrong block outranks
// the family's own kind.
func TestShortfallOf(t *testing.T) {
	lb, lh := BinOf(Left).Centre, BinOf(Left).Half
	high := [3]float64{0, 0, 0.7}
	hover := 2*BlockHalf + ReachHover
	red := [3]float64{0.2, 0.1, BlockHalf}
	withGreen := func(s State, green [3]float64) State {
		s.NumBlocks = 2
		s.Blocks[1] = Block{Colour: Green, Pos: green}
		return s
	}
	tests := []struct {
		name   string
		s      State
		held   int
		kind   string
		detail []string
	}{
		{"reach: solved", oneBlock(TaskReach, red, [3]float64{0.2, 0.1, hover}), -1, ShortfallNone, nil},
		{"reach: below", oneBlock(TaskReach, red, [3]float64{0.2, 0.1, hover - 0.09}), -1, ShortfallReachLow,
			[]string{"effector 0.090 m from the reach target", "dz -0.090"}},
		{"reach: above", oneBlock(TaskReach, red, [3]float64{0.2, 0.1, hover + ReachRadius + 0.01}), -1, ShortfallReachHigh, nil},
		{"reach: beside", oneBlock(TaskReach, red, [3]float64{0.2 + ReachRadius + 0.01, 0.1, hover}), -1, ShortfallReachSide, nil},
		{"reach: over the wrong block", withGreen(oneBlock(TaskReach, red, [3]float64{-0.4, 0.1, hover}), [3]float64{-0.4, 0.1, BlockHalf}), -1,
			ShortfallOverOther, []string{"effector 0.600 m from the reach target", "effector over the green block, not the red one"}},
		{"push: short", oneBlock(TaskPush, [3]float64{0.1, 0, BlockHalf}, high), -1, ShortfallPushedShort,
			[]string{"block moved +0.100 m right of"}},
		{"push: barely moved", oneBlock(TaskPush, [3]float64{notPushed - 0.01, 0, BlockHalf}, high), -1, ShortfallNotPushed, nil},
		{"pick: held low", oneBlock(TaskPick, [3]float64{0, 0, BlockHalf + LiftHeight - 0.05}, high), 0, ShortfallHeldLow,
			[]string{"its bottom 0.050 m below the lift height"}},
		{"pick: not grasped", oneBlock(TaskPick, [3]float64{0, 0, BlockHalf}, [3]float64{0, 0, BlockHalf + 0.3}), -1, ShortfallNotGrasped,
			[]string{"effector 0.300 m from the block"}},
		{"pick: holding the wrong block", withGreen(oneBlock(TaskPick, [3]float64{0.5, 0, BlockHalf}, high), [3]float64{0, 0, 0.5}), 1,
			ShortfallHoldingOther, []string{"holding the green block, not the red one"}},
		{"place: still held", oneBlock(TaskPlace, [3]float64{0, 0, 0.3}, high), 0, ShortfallStillHeld, nil},
		{"place: outside the bin", oneBlock(TaskPlace, [3]float64{lb[0] + lh[0] + 0.01, lb[1], BlockHalf}, [3]float64{lb[0] + lh[0] + 0.01, lb[1], 0.7}), -1,
			ShortfallOutsideBin, []string{"block 0.010 m outside the left bin"}},
		{"place: falling into the bin", oneBlock(TaskPlace, [3]float64{lb[0], lb[1], BlockHalf + 0.05}, [3]float64{lb[0], lb[1], 0.7}), -1,
			ShortfallNotResting, []string{"block 0.050 m above the table"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			s.Held = tc.held
			got := ShortfallOf(&s)
			if got.Kind != tc.kind {
				t.Errorf("kind %q, want %q (%s)", got.Kind, tc.kind, got)
			}
			for _, w := range tc.detail {
				if !strings.Contains(got.Detail, w) {
					t.Errorf("detail %q lacks %q", got.Detail, w)
				}
			}
		})
	}
}
