package ort

import (
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// TestGoldenRuns replays the generator's steps through ONNX Runtime and the
// engine for every reference configuration, and checks exits, actions and
// distances against the independent Python reference (<= 1e-5).
func TestGoldenRuns(t *testing.T) {
	g := loadGolden(t)
	m := loadTiny(t)
	for _, run := range g.Runs {
		t.Run(run.Name, func(t *testing.T) {
			e := newEngine(t, m, run.settings(t, m), nil)
			for i := range g.Steps {
				step := &g.Steps[i]
				want := run.Results[i]
				got, err := e.Step(step.observation())
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got.Exit != want.Exit || got.Held != want.Held {
					t.Fatalf("step %d: exit %d held %v, want exit %d held %v (distances %v)",
						i, got.Exit, got.Held, want.Exit, want.Held, got.Distances[:got.NumDistances])
				}
				if got.Reset != (i == 0 || g.Steps[i-1].Episode != step.Episode) {
					t.Errorf("step %d: Reset %v at episode %d", i, got.Reset, step.Episode)
				}
				for k, p := range want.Pose {
					if !near(float64(got.Action.Pose[k]), float64(p), g.Tolerance) {
						t.Fatalf("step %d: pose[%d] = %v, want %v", i, k, got.Action.Pose[k], p)
					}
				}
				if !near(float64(got.Action.GripperProb), float64(want.GripperProb), g.Tolerance) {
					t.Fatalf("step %d: gripper prob %v, want %v", i, got.Action.GripperProb, want.GripperProb)
				}
				if wantGrip := float32(-1); want.GripperProb > 0.5 && got.Action.Gripper != 1 || want.GripperProb <= 0.5 && got.Action.Gripper != wantGrip {
					t.Fatalf("step %d: gripper %v for probability %v", i, got.Action.Gripper, want.GripperProb)
				}
				if got.NumDistances != len(want.Distances) {
					t.Fatalf("step %d: %d distances, want %d", i, got.NumDistances, len(want.Distances))
				}
				for k, d := range want.Distances {
					if !near(got.Distances[k], d, g.Tolerance) {
						t.Fatalf("step %d: distance[%d] = %v, want %v", i, k, got.Distances[k], d)
					}
				}
				if wantG := m.Exits[want.Exit-1].GFLOPs; got.GFLOPs != wantG {
					t.Errorf("step %d: %v GFLOPs, want exit %d's %v", i, got.GFLOPs, want.Exit, wantG)
				}
			}
		})
	}
}

// TestGoldenFullDepthDistances checks the calibration data: the rms
// distances of every exit at full depth.
func TestGoldenFullDepthDistances(t *testing.T) {
	g := loadGolden(t)
	m := loadTiny(t)
	e := newEngine(t, m, policy.Settings{}, nil)
	for i := range g.Steps {
		r, err := e.Step(g.Steps[i].observation())
		if err != nil {
			t.Fatal(err)
		}
		if r.Exit != len(m.Exits) || r.NumDistances != len(m.Exits) {
			t.Fatalf("step %d: exit %d with %d distances, want full depth", i, r.Exit, r.NumDistances)
		}
		for k, want := range g.FullDepthRMS[i] {
			if !near(r.Distances[k], want, g.Tolerance) {
				t.Fatalf("step %d exit %d: %v, want %v", i, k+1, r.Distances[k], want)
			}
		}
	}
}
