package policy_test

import (
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// A step allocates nothing, a new instruction included: the node steps at
// the camera rate for hours, and garbage collection would pause the
// control loop. Each measured run is four steps over two instructions, so
// an allocation on either path counts at least once per run.
func TestStepDoesNotAllocate(t *testing.T) {
	settings := map[string]policy.Settings{
		"exit rule": {Thresholds: []float64{0.3, 0.3, 0.3, 0.3}},
		"hold":      {Thresholds: []float64{0.3, 0.3, 0.3, 0.3}, HoldSteps: 1, AverageLastTwo: true},
	}
	for name, s := range settings {
		t.Run(name, func(t *testing.T) {
			e, be := scripted(t, s, ladder(0, 1, 1.5, 1.6, 1.6))
			a, b := obs("move to the red block"), obs("Move to the BLUE block!")
			resets := 0
			allocs := testing.AllocsPerRun(50, func() {
				for _, o := range []*policy.Observation{a, a, b, b} {
					r, err := e.Step(o)
					if err != nil {
						t.Fatal(err)
					}
					if r.Reset {
						resets++
					}
				}
				be.ClearRuns()
			})
			if allocs != 0 {
				t.Errorf("%v allocations per 4 steps, want 0", allocs)
			}
			if resets != 2*51 { // AllocsPerRun runs once more to warm up
				t.Errorf("%d new episodes in %d runs: the instruction changes were not all stepped", resets, 51)
			}
		})
	}
}
