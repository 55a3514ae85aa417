package policy

import "math"

// MaxBudgetWindow bounds Settings.BudgetWindow.
const MaxBudgetWindow = 100000

// trackerGain is the share of the log error between the budget and the
// window's realised average that one window's worth of corrections
// removes. The window's average lags the thresholds by up to a window, so
// a gain near 1 would overshoot and oscillate; half converges in a few
// windows and keeps the step-to-step jitter of the thresholds small.
const trackerGain = 0.5

// trackerUpdates is how many corrections the tracker makes per window.
const trackerUpdates = 10

// budgetTracker holds an average budget on the steps the engine really
// runs. Thresholds solved from a calibration meet the budget on the
// calibration's steps, demonstrations; in closed loop the policy meets
// other states (its own small errors, more ambiguous moments) where
// successive exits disagree more or less often, so the realised average
// drifts from the budget (1.2-1.3x with the cosine metric on the shipped
// model). The tracker keeps the last BudgetWindow steps' costs and, a
// tenth of a window at a time once the window is full, re-solves the
// thresholds from the same calibration for a corrected budget,
// budget*scale, where log scale integrates log(budget / realised): a
// lasting drift is cancelled whatever its cause. deer-method.md,
// "Thresholds from budgets", suggests this in place of the paper's
// offline Bayesian optimisation over closed-loop runs.
type budgetTracker struct {
	plan     *Plan // the plan tracked; a new plan restarts the tracker
	on       bool  // the plan solves an average budget with a window
	costs    []float64
	next     int // ring position of the oldest cost once full
	filled   int
	sum      float64
	sinceFix int
	logScale float64
	solved   float64   // the corrected budget th was solved for
	th       []float64 // thresholds in force
	solver   thresholdSolver
	share    []float64
	counts   []int
}

// track makes t follow pl. A plan that solves the same average budget
// from the same calibration over the same exits and window (a change of
// hold steps, say) keeps the tracker's window and correction; any other
// restarts it from the calibration's thresholds. It allocates only on a
// restart, never in the steady state.
func (t *budgetTracker) track(pl *Plan) {
	if t.plan == pl {
		return
	}
	old := t.plan
	t.plan = pl
	if t.on && old.cal == pl.cal && old.AvgGFLOPs == pl.AvgGFLOPs && old.MaxExit == pl.MaxExit &&
		old.BudgetWindow == pl.BudgetWindow && pl.Thresholds == nil {
		return
	}
	t.th = append(t.th[:0], pl.ExitThresholds...)
	t.on = pl.BudgetWindow > 0 && pl.cal != nil && !math.IsNaN(pl.LogQ)
	t.solved = 0
	if pl.cal != nil { // solved from a calibration for the user's budget
		t.solved = pl.AvgGFLOPs
	}
	if !t.on {
		return
	}
	if cap(t.costs) < pl.BudgetWindow {
		t.costs = make([]float64, pl.BudgetWindow)
	}
	t.costs = t.costs[:pl.BudgetWindow]
	t.next, t.filled, t.sum, t.sinceFix, t.logScale = 0, 0, 0, 0, 0
	t.solver = pl.cal.solver.withScratch(t.solver.exited)
	n := pl.MaxExit
	if cap(t.share) < n {
		t.share, t.counts = make([]float64, n), make([]int, n)
	}
	t.share, t.counts = t.share[:n], t.counts[:n]
}

// record adds a step's cost and, when a correction is due, re-solves the
// thresholds. cost is the cumulative GFLOPs of each exit.
func (t *budgetTracker) record(gflops float64, cost []float64) {
	if !t.on {
		return
	}
	w := len(t.costs)
	if t.filled < w {
		t.costs[t.filled] = gflops
		t.filled++
		t.sum += gflops
	} else {
		t.sum += gflops - t.costs[t.next]
		t.costs[t.next] = gflops
		t.next = (t.next + 1) % w
	}
	if t.filled < w {
		return
	}
	every := max(1, w/trackerUpdates)
	if t.sinceFix++; t.sinceFix < every {
		return
	}
	t.sinceFix = 0
	realised := t.sum / float64(w)
	budget := t.plan.AvgGFLOPs
	n := t.plan.MaxExit
	t.logScale += trackerGain * float64(every) / float64(w) * math.Log(budget/realised)
	// Keep the corrected budget where it still changes the thresholds,
	// so that an unreachable budget does not wind the scale up.
	lo, hi := math.Log(cost[0]/budget), math.Log(cost[n-1]/budget)
	t.logScale = max(lo, min(hi, t.logScale))
	t.solved = budget * math.Exp(t.logScale)
	solveThresholds(t.solved, cost[:n], t.share, t.th, t.counts, &t.solver)
}
