package sim

import "testing"

// oneBlock returns a state of task with a single red block at pos, not
// held, and the effector at eff, open.
func oneBlock(task TaskKind, pos, eff [3]float64) State {
	s := State{Task: task, NumBlocks: 1, Held: -1, Bin: Left, MaxSteps: 100}
	s.Blocks[0] = Block{Colour: Red, Pos: pos}
	s.Effector.Pos = eff
	return s
}

func TestSucceeded(t *testing.T) {
	lb, lh := BinOf(Left).Centre, BinOf(Left).Half
	rb := BinOf(Right).Centre
	r := ReachRadius
	high := [3]float64{0, 0, 0.7}
	tests := []struct {
		name string
		s    State
		held bool
		want bool
	}{
		{name: "place: resting in the left bin", s: oneBlock(TaskPlace, [3]float64{lb[0], lb[1], BlockHalf}, high), want: true},
		{name: "place: on the bin's edge", s: oneBlock(TaskPlace, [3]float64{lb[0] + lh[0], lb[1] - lh[1], BlockHalf}, high), want: true},
		{name: "place: just outside the bin", s: oneBlock(TaskPlace, [3]float64{lb[0] + lh[0] + 0.01, lb[1], BlockHalf}, high)},
		{name: "place: in the other bin", s: oneBlock(TaskPlace, [3]float64{rb[0], rb[1], BlockHalf}, high)},
		{name: "place: on the table", s: oneBlock(TaskPlace, [3]float64{0, 0, BlockHalf}, high)},
		{name: "place: still falling into the bin", s: oneBlock(TaskPlace, [3]float64{lb[0], lb[1], BlockHalf + 0.05}, high)},
		{name: "place: held over the bin", s: oneBlock(TaskPlace, [3]float64{lb[0], lb[1], BlockHalf}, high), held: true},
		{name: "reach: at the hover point", s: oneBlock(TaskReach, [3]float64{0.2, 0.1, BlockHalf}, [3]float64{0.2, 0.1, 2*BlockHalf + ReachHover}), want: true},
		{name: "reach: inside the radius", s: oneBlock(TaskReach, [3]float64{0.2, 0.1, BlockHalf}, [3]float64{0.2 + 0.6*r, 0.1 + 0.6*r, 2*BlockHalf + ReachHover}), want: true},
		{name: "reach: outside the radius", s: oneBlock(TaskReach, [3]float64{0.2, 0.1, BlockHalf}, [3]float64{0.2 + r + 0.01, 0.1, 2*BlockHalf + ReachHover})},
		{name: "reach: too high", s: oneBlock(TaskReach, [3]float64{0.2, 0.1, BlockHalf}, [3]float64{0.2, 0.1, 0.4})},
		{name: "pick: held and lifted", s: oneBlock(TaskPick, [3]float64{0, 0, BlockHalf + LiftHeight}, high), held: true, want: true},
		{name: "pick: held but low", s: oneBlock(TaskPick, [3]float64{0, 0, BlockHalf + 0.1}, high), held: true},
		{name: "pick: lifted but not held", s: oneBlock(TaskPick, [3]float64{0, 0, BlockHalf + LiftHeight}, high)},
		{name: "push: moved far enough", s: oneBlock(TaskPush, [3]float64{0.31, 0, BlockHalf}, high), want: true},
		{name: "push: not far enough", s: oneBlock(TaskPush, [3]float64{0.25, 0, BlockHalf}, high)},
		{name: "push: moved left", s: oneBlock(TaskPush, [3]float64{-0.4, 0, BlockHalf}, high)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			if tc.held {
				s.Held = 0
			}
			if got := Succeeded(&s); got != tc.want {
				t.Fatalf("Succeeded = %v, want %v (block %+v)", got, tc.want, s.Blocks[0])
			}
		})
	}
}
