package policy_test

import (
	"math"
	"testing"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// exitDistance is exit's distance from its predecessor at a step of the
// shifted run: the calibration's distribution (deeper exits closer to
// their predecessor, as in DeeR) times shift, seeded by the step.
func exitDistance(step, exit int, shift float64) float64 {
	// splitmix64 of (step, exit) to a uniform in (0, 1), then an
	// exponential: no allocation, so steps can be counted for them.
	z := uint64(step)*0x9e3779b97f4a7c15 + uint64(exit)*0xbf58476d1ce4e5b9
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	u := (float64(z>>11) + 0.5) / (1 << 53)
	return -shift * math.Log(u) / float64(exit)
}

// shiftedEngine builds the scripted 4-exit engine (exit i costs i GFLOPs)
// with an rms calibration of 4000 steps, over runs whose distances are
// shift times the calibration's: a closed loop that meets states where
// the exits disagree more (shift > 1) than on the demonstrations.
func shiftedEngine(t *testing.T, s policy.Settings, shift float64) *shiftedRun {
	t.Helper()
	m := policytest.WriteModel(t, 4)
	cal := &policy.Calibration{Model: "scripted", Metric: policy.MetricRMS, Values: make([][]float64, 4)}
	for i := range cal.Values {
		cal.Values[i] = make([]float64, 4000)
		for st := range cal.Values[i] {
			cal.Values[i][st] = exitDistance(-1-st, i+1, 1)
		}
	}
	be := policytest.NewBackend(m)
	// Exit i's feature is the sum of the distances of exits 1..i, in every
	// dimension, so that its candidate is exitDistance(step, i) away from
	// exit i-1's under the rms metric.
	be.Feature = func(step, exit int) (f [policytest.FeatureDim]float32) {
		var sum float64
		for i := 1; i <= exit; i++ {
			sum += exitDistance(step, i, shift)
		}
		for k := range f {
			f[k] = float32(sum)
		}
		return f
	}
	e, err := policy.New(policy.Config{Manifest: m, Backend: be, Calibrations: []*policy.Calibration{cal}, Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &shiftedRun{e, be}
}

// shiftedRun is an engine over the scripted backend of shiftedEngine.
type shiftedRun struct {
	e  *policy.Engine
	be *policytest.Backend
}

// average runs steps steps (a new episode every 50, so that the
// scripted recurrent state stays small) and returns the average GFLOPs
// of the last measure steps and the last step's result.
func (sr *shiftedRun) average(t *testing.T, steps, measure int) (float64, policy.StepResult) {
	t.Helper()
	var sum float64
	var r policy.StepResult
	for i := range steps {
		sr.be.ClearRuns()
		r = step(t, sr.e, obs([2]string{"move to the red block", "move to the blue block"}[i/50%2]))
		if i >= steps-measure {
			sum += r.GFLOPs
		}
	}
	return sum / float64(measure), r
}

// On the calibration's own distribution the solved thresholds meet the
// budget; when the run's exits disagree more than the calibration's, the
// open-loop thresholds overspend, and the budget window brings the
// realised average back to the budget by solving for a lower one.
func TestBudgetWindowHoldsTheAverageUnderShift(t *testing.T) {
	const budget = 2.0
	b := policy.Budget{AvgGFLOPs: budget}
	same, _ := shiftedEngine(t, policy.Settings{Budget: b}, 1).average(t, 3000, 3000)
	if math.Abs(same/budget-1) > 0.05 {
		t.Fatalf("unshifted, open loop: %.3f GFLOPs for a budget of %v", same, budget)
	}
	open, _ := shiftedEngine(t, policy.Settings{Budget: b}, 2).average(t, 3000, 3000)
	if open/budget < 1.15 {
		t.Fatalf("shifted, open loop: %.3f GFLOPs, want the shift to overspend a budget of %v", open, budget)
	}
	held, last := shiftedEngine(t, policy.Settings{Budget: b, BudgetWindow: 200}, 2).average(t, 5000, 2000)
	t.Logf("budget %v: open loop %.3f, unshifted %.3f, window 200 %.3f (solved for %.3f)", budget, open, same, held, last.SolvedGFLOPs)
	if math.Abs(held/budget-1) > 0.04 {
		t.Fatalf("shifted, window 200: %.3f GFLOPs over the last 2000 steps, want %v within 4%%", held, budget)
	}
	if last.SolvedGFLOPs >= budget || last.SolvedGFLOPs < 1 {
		t.Fatalf("thresholds solved for %v GFLOPs, want below the budget %v", last.SolvedGFLOPs, budget)
	}
}

// A new setting restarts the tracker from the calibration's thresholds.
func TestBudgetWindowRestartsOnNewSettings(t *testing.T) {
	s := policy.Settings{Budget: policy.Budget{AvgGFLOPs: 2}, BudgetWindow: 100}
	sr := shiftedEngine(t, s, 2)
	_, r := sr.average(t, 1000, 1)
	if r.SolvedGFLOPs == 2 {
		t.Fatal("no correction after 1000 steps")
	}
	s.AvgGFLOPs = 2.5
	pl, err := sr.e.SetSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	r = step(t, sr.e, obs("move to the red block"))
	if r.SolvedGFLOPs != 2.5 || r.Thresholds[0] != pl.ExitThresholds[0] {
		t.Fatalf("after a new budget: solved for %v, threshold 1 %v; want 2.5 and the plan's %v", r.SolvedGFLOPs, r.Thresholds[0], pl.ExitThresholds[0])
	}
}

// Corrections re-solve the thresholds in place: steps allocate nothing.
func TestBudgetWindowAllocatesNothing(t *testing.T) {
	sr := shiftedEngine(t, policy.Settings{Budget: policy.Budget{AvgGFLOPs: 2}, BudgetWindow: 20}, 2)
	o := obs("move to the red block")
	sr.average(t, 30, 1)
	allocs := testing.AllocsPerRun(100, func() {
		sr.be.ClearRuns()
		if _, err := sr.e.Step(o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per step, want 0", allocs)
	}
}

// A change that leaves the average budget's problem as it was (hold
// steps here) keeps the correction; the budget window is not restarted.
func TestBudgetWindowSurvivesUnrelatedSettings(t *testing.T) {
	s := policy.Settings{Budget: policy.Budget{AvgGFLOPs: 2}, BudgetWindow: 100}
	sr := shiftedEngine(t, s, 2)
	_, before := sr.average(t, 1000, 1)
	s.HoldSteps = 1
	if _, err := sr.e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	after := step(t, sr.e, obs("move to the red block"))
	// A restart would solve for the user's budget, 2, again.
	if before.SolvedGFLOPs == 2 || after.SolvedGFLOPs == 2 {
		t.Fatalf("solved for %v before the change, %v after; want a corrected budget in both", before.SolvedGFLOPs, after.SolvedGFLOPs)
	}
}
