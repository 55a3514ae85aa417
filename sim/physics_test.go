package sim

import (
	"math"
	"testing"
)

// closeGripper is the action that only closes the gripper.
var closeGripper = Action{Gripper: -1}

func TestGrasp(t *testing.T) {
	tests := []struct {
		name     string
		eff      [3]float64
		yaw      float64
		blockYaw float64
		wantHeld bool
	}{
		{name: "centred and low", eff: [3]float64{0, 0, 0.05}, wantHeld: true},
		{name: "within the grasp radius", eff: [3]float64{0.7 * GraspRadius, -0.5 * GraspRadius, 0.05}, wantHeld: true},
		{name: "at the highest grasp point", eff: [3]float64{0, 0, BlockHalf + GraspAbove}, wantHeld: true},
		{name: "quarter turn is aligned", eff: [3]float64{0, 0, 0.05}, yaw: math.Pi / 2, blockYaw: GraspYawTol / 2, wantHeld: true},
		{name: "outside the grasp radius", eff: [3]float64{GraspRadius + 0.01, 0, 0.05}},
		{name: "too high", eff: [3]float64{0, 0, BlockHalf + GraspAbove + 0.01}},
		{name: "yaw misaligned", eff: [3]float64{0, 0, 0.05}, yaw: GraspYawTol + 0.1},
		{name: "yaw half a quarter off", eff: [3]float64{0, 0, 0.05}, blockYaw: math.Pi / 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := oneBlock(TaskPick, [3]float64{0, 0, BlockHalf}, tc.eff)
			s.Effector.Yaw = tc.yaw
			s.Blocks[0].Yaw = tc.blockYaw
			s.apply(closeGripper, DefaultPosStep, DefaultRotStep)
			if !s.Effector.Closed {
				t.Fatal("gripper did not close")
			}
			if got := s.Held == 0; got != tc.wantHeld {
				t.Fatalf("held = %v, want %v", got, tc.wantHeld)
			}
		})
	}
}

func TestGraspPicksNearestBlock(t *testing.T) {
	// Both blocks are within the grasp radius.
	s := oneBlock(TaskPick, [3]float64{0.8 * GraspRadius, 0, BlockHalf}, [3]float64{0, 0, 0.05})
	s.NumBlocks = 2
	s.Blocks[1] = Block{Colour: Blue, Pos: [3]float64{-0.4 * GraspRadius, 0, BlockHalf}}
	s.apply(closeGripper, DefaultPosStep, DefaultRotStep)
	if s.Held != 1 {
		t.Fatalf("held block %d, want the nearer block 1", s.Held)
	}
}

func TestCarryReleaseFall(t *testing.T) {
	s := oneBlock(TaskPick, [3]float64{0, 0, BlockHalf}, [3]float64{0.01, 0, 0.05})
	s.apply(closeGripper, DefaultPosStep, DefaultRotStep)
	if s.Held != 0 {
		t.Fatal("no grasp")
	}
	// Carry: the block keeps its offset from the effector, and turns with it.
	up := Action{Pose: [6]float32{1, 0, 1, 0, 0, 1}, Gripper: -1}
	for range 5 {
		s.apply(up, DefaultPosStep, DefaultRotStep)
	}
	e, b := s.Effector, s.Blocks[0]
	if d := math.Hypot(b.Pos[0]-e.Pos[0], b.Pos[1]-e.Pos[1]); math.Abs(d-0.01) > 1e-9 {
		t.Fatalf("held block drifted: horizontal offset %g, want 0.01", d)
	}
	if dz := b.Pos[2] - e.Pos[2]; math.Abs(dz-(BlockHalf-0.05)) > 1e-9 {
		t.Fatalf("held block drifted: vertical offset %g", dz)
	}
	if math.Abs(b.Yaw-e.Yaw) > 1e-9 {
		t.Fatalf("held block yaw %g, effector yaw %g", b.Yaw, e.Yaw)
	}
	// The held block cannot be pushed through the table.
	down := Action{Pose: [6]float32{0, 0, -1}, Gripper: -1}
	for range 20 {
		s.apply(down, DefaultPosStep, DefaultRotStep)
	}
	if s.Blocks[0].Pos[2] < BlockHalf-1e-9 {
		t.Fatalf("held block went below the table: z %g", s.Blocks[0].Pos[2])
	}
	for range 6 {
		s.apply(Action{Pose: [6]float32{0, 0, 1}, Gripper: -1}, DefaultPosStep, DefaultRotStep)
	}
	// Release: the block stays where it is horizontally and falls.
	x, y, z := s.Blocks[0].Pos[0], s.Blocks[0].Pos[1], s.Blocks[0].Pos[2]
	s.apply(Action{Gripper: 1}, DefaultPosStep, DefaultRotStep)
	if s.Held != -1 || s.Effector.Closed {
		t.Fatal("opening did not release the block")
	}
	if got := s.Blocks[0].Pos[2]; got >= z {
		t.Fatalf("released block did not fall: z %g -> %g", z, got)
	}
	for range 10 {
		s.apply(Action{}, DefaultPosStep, DefaultRotStep)
	}
	b = s.Blocks[0]
	if !b.Resting() || b.Pos[0] != x || b.Pos[1] != y {
		t.Fatalf("released block at %v, want resting at (%g, %g)", b.Pos, x, y)
	}
}

func TestPush(t *testing.T) {
	tests := []struct {
		name      string
		closed    bool
		z         float64
		wantMoved bool
	}{
		{name: "closed and low pushes", closed: true, z: 0.04, wantMoved: true},
		{name: "open passes around", closed: false, z: 0.04},
		{name: "closed above the block passes over", closed: true, z: 2*BlockHalf + 0.01},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := oneBlock(TaskPush, [3]float64{0, 0, BlockHalf}, [3]float64{-0.2, 0, tc.z})
			s.Effector.Closed = tc.closed
			right := Action{Pose: [6]float32{1}}
			for range 6 {
				s.apply(right, DefaultPosStep, DefaultRotStep)
			}
			b := s.Blocks[0].Pos
			moved := b[0] > 1e-9
			if moved != tc.wantMoved {
				t.Fatalf("block at %v, moved %v, want %v", b, moved, tc.wantMoved)
			}
			if moved {
				want := s.Effector.Pos[0] + BlockHalf + PusherRadius
				if math.Abs(b[0]-want) > 1e-9 || math.Abs(b[1]) > 1e-9 {
					t.Fatalf("pushed block at %v, want x %g on the push line", b, want)
				}
			}
		})
	}
}
