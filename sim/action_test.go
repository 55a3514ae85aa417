package sim

import (
	"math"
	"testing"
)

func TestActionDelta(t *testing.T) {
	tests := []struct {
		name                string
		a                   Action
		wdx, wdy, wdz, wyaw float64
	}{
		{name: "zero", a: Action{}},
		{name: "full positive", a: Action{Pose: [6]float32{1, 1, 1, 1, 1, 1}}, wdx: 0.05, wdy: 0.05, wdz: 0.05, wyaw: 0.1},
		{name: "half negative", a: Action{Pose: [6]float32{-0.5, 0, -0.5, 0, 0, -0.5}}, wdx: -0.025, wdz: -0.025, wyaw: -0.05},
		{name: "clipped above", a: Action{Pose: [6]float32{3, 0, 0, 0, 0, 7}}, wdx: 0.05, wyaw: 0.1},
		{name: "clipped below", a: Action{Pose: [6]float32{0, -2, 0, 0, 0, -9}}, wdy: -0.05, wyaw: -0.1},
		{name: "roll and pitch ignored", a: Action{Pose: [6]float32{0, 0, 0, 1, -1, 0}}},
		{name: "NaN is zero", a: Action{Pose: [6]float32{float32(math.NaN()), 0, 0, 0, 0, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dx, dy, dz, dyaw := tc.a.Delta(DefaultPosStep, DefaultRotStep)
			got := [4]float64{dx, dy, dz, dyaw}
			want := [4]float64{tc.wdx, tc.wdy, tc.wdz, tc.wyaw}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-9 {
					t.Fatalf("Delta = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestActionClipped(t *testing.T) {
	tests := []struct {
		name string
		a    Action
		want Action
	}{
		{name: "inside unchanged", a: Action{Pose: [6]float32{0.5, -0.25, 0, 0, 0, 1}, Gripper: 1}, want: Action{Pose: [6]float32{0.5, -0.25, 0, 0, 0, 1}, Gripper: 1}},
		{name: "pose clipped", a: Action{Pose: [6]float32{2, -3, 1.5, -1.5, 9, -9}}, want: Action{Pose: [6]float32{1, -1, 1, -1, 1, -1}}},
		{name: "gripper snapped closed", a: Action{Gripper: -0.2}, want: Action{Gripper: -1}},
		{name: "gripper snapped open", a: Action{Gripper: 0.7}, want: Action{Gripper: 1}},
		{name: "gripper zero kept", a: Action{}, want: Action{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Clipped(); got != tc.want {
				t.Fatalf("Clipped() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestStepScalesAndClipsMotion(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true})
	env.Reset(3, TaskPick)
	env.st.Effector.Pos = [3]float64{0, 0, 0.5}
	env.st.Effector.Yaw = 0
	env.Step(Action{Pose: [6]float32{5, -0.5, -1, 0, 0, 2}})
	got := env.State().Effector
	want := [4]float64{0.05, -0.025, 0.45, 0.1}
	have := [4]float64{got.Pos[0], got.Pos[1], got.Pos[2], got.Yaw}
	for i := range want {
		if math.Abs(have[i]-want[i]) > 1e-9 {
			t.Fatalf("effector after one step = %v, want %v", have, want)
		}
	}

	// The workspace bounds hold whatever the actions.
	for range 40 {
		env.Step(Action{Pose: [6]float32{1, 1, 1, 0, 0, 1}})
	}
	e := env.State().Effector
	if e.Pos[0] > TableHalf || e.Pos[1] > TableHalf || e.Pos[2] > EffectorMaxZ || e.Yaw > math.Pi {
		t.Fatalf("effector left its workspace: %+v", e)
	}
}

func TestCustomStepSizes(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true, PosStepM: 0.02, RotStepRad: 0.05})
	env.Reset(3, TaskPick)
	env.st.Effector.Pos = [3]float64{0, 0, 0.5}
	env.st.Effector.Yaw = 0
	env.Step(Action{Pose: [6]float32{1, 0, 0, 0, 0, -1}})
	if e := env.State().Effector; math.Abs(e.Pos[0]-0.02) > 1e-9 || math.Abs(e.Yaw+0.05) > 1e-9 {
		t.Fatalf("effector = %+v, want x 0.02 and yaw -0.05", e)
	}
}
