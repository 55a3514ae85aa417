package ort

import (
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// Steps through ONNX Runtime allocate nothing either: each measured run is
// the 24 golden steps, three instructions, mixed exits and resized frames.
func TestStepDoesNotAllocate(t *testing.T) {
	g := loadGolden(t)
	m := loadTiny(t)
	var s policy.Settings
	for i := range g.Runs {
		if g.Runs[i].Name == "mixed_rms" {
			s = g.Runs[i].settings(t, m)
		}
	}
	e := newEngine(t, m, s, nil)
	obs := make([]*policy.Observation, len(g.Steps))
	for i := range g.Steps {
		obs[i] = g.Steps[i].observation()
	}
	allocs := testing.AllocsPerRun(3, func() {
		for _, o := range obs {
			if _, err := e.Step(o); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per %d steps, want 0", allocs, len(obs))
	}
}
