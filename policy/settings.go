package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// MaxHoldSteps bounds Settings.HoldSteps.
const MaxHoldSteps = 1000

// Settings are the knobs a user may change while the engine runs. Each
// change is validated as a whole and applies from the next step.
type Settings struct {
	Budget

	// Thresholds, when not nil, are explicit per-exit thresholds (one per
	// exit of the model; the deepest allowed exit's is ignored) and
	// override the average-budget solver. -Inf (or any negative value)
	// means never exit there; +Inf means always.
	Thresholds []float64
	// Metric compares successive exits' actions. Zero means MetricRMS.
	Metric Metric
	// HoldSteps reuses a decided exit for this many following steps.
	HoldSteps int
	// AverageLastTwo executes the mean of the chosen exit's action and the
	// previous exit's, a smoothing option of the reference code.
	AverageLastTwo bool
	// BudgetWindow, when above 0, holds the average budget on the steps
	// the engine runs: the realised average over the last BudgetWindow
	// steps corrects the thresholds solved from the calibration (see
	// budgetTracker). 0 keeps the calibration's thresholds as solved.
	BudgetWindow int
}

// Plan is what the engine does with the current settings, as solved.
type Plan struct {
	Settings
	// MaxExit is the deepest exit the peak and memory budgets allow.
	MaxExit int
	// ExitThresholds is the threshold of each allowed exit, exit 1 first;
	// the last is +Inf.
	ExitThresholds []float64
	// LogQ is the solved log q of the geometric exit distribution, or NaN
	// when no average budget is being solved.
	LogQ float64
	// ExpectedGFLOPs is the average cost the thresholds give on the
	// calibration steps, or NaN without a calibration.
	ExpectedGFLOPs float64
	// Note says how an average budget outside the feasible range was
	// handled, or is empty.
	Note string

	cal *metricCalibration // the calibration the thresholds were solved from, or nil
}

// planner turns settings into plans. It is not safe for concurrent use.
type planner struct {
	m      *Manifest
	cals   map[Metric]*metricCalibration // by the metric they were measured with
	cost   []float64
	share  []float64
	counts []int
}

// metricCalibration is a calibration with its threshold solver. An exit
// metric's distances only compare with thresholds solved from the same
// metric's calibration, so each metric the user may switch to needs its own.
type metricCalibration struct {
	cal    *Calibration
	solver *thresholdSolver
}

func newPlanner(m *Manifest, cals []*Calibration) (*planner, error) {
	p := &planner{m: m, cals: map[Metric]*metricCalibration{}}
	for _, e := range m.Exits {
		p.cost = append(p.cost, e.GFLOPs)
	}
	p.share = make([]float64, len(m.Exits))
	p.counts = make([]int, len(m.Exits))
	for _, cal := range cals {
		if cal == nil {
			continue // as Config.Calibrations' zero value: none
		}
		if cal.Model != m.Name {
			from := "a calibration"
			if cal.File != "" {
				from = "calibration " + cal.File
			}
			return nil, fmt.Errorf("policy: %s was measured with model %q, the manifest is model %q: recalibrate with deer_vla_calibrate", from, cal.Model, m.Name)
		}
		if len(cal.Values) != len(m.Exits) {
			return nil, fmt.Errorf("policy: calibration has %d exits, model %q has %d", len(cal.Values), m.Name, len(m.Exits))
		}
		if p.cals[cal.Metric] != nil {
			return nil, fmt.Errorf("policy: two calibrations measured with metric %s", cal.Metric)
		}
		p.cals[cal.Metric] = &metricCalibration{cal: cal, solver: newThresholdSolver(cal)}
	}
	return p, nil
}

// calibratedMetrics lists the metrics there is a calibration for.
func (p *planner) calibratedMetrics() string {
	var names []string
	for m := range p.cals {
		names = append(names, m.String())
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// plan validates s and solves it. The returned plan shares nothing mutable
// with the planner.
func (p *planner) plan(s Settings) (*Plan, error) {
	if err := s.Budget.validate(); err != nil {
		return nil, err
	}
	if s.Metric == 0 {
		s.Metric = MetricRMS
	}
	if s.Metric < MetricRMS || int(s.Metric) >= len(metricNames) {
		return nil, fmt.Errorf("policy: unknown metric %d", int(s.Metric))
	}
	if s.HoldSteps < 0 || s.HoldSteps > MaxHoldSteps {
		return nil, fmt.Errorf("policy: hold steps %d must be in [0, %d]", s.HoldSteps, MaxHoldSteps)
	}
	if s.BudgetWindow < 0 || s.BudgetWindow > MaxBudgetWindow {
		return nil, fmt.Errorf("policy: budget window %d must be in [0, %d] steps", s.BudgetWindow, MaxBudgetWindow)
	}
	n, err := p.m.MaxExit(s.Budget)
	if err != nil {
		return nil, err
	}
	pl := &Plan{MaxExit: n, ExitThresholds: make([]float64, n), LogQ: math.NaN(), ExpectedGFLOPs: math.NaN()}
	switch {
	case s.Thresholds != nil:
		if len(s.Thresholds) != len(p.m.Exits) {
			return nil, fmt.Errorf("policy: want one threshold per exit (%d exits), got %d", len(p.m.Exits), len(s.Thresholds))
		}
		for i, t := range s.Thresholds {
			if math.IsNaN(t) {
				return nil, fmt.Errorf("policy: threshold of exit %d is NaN", i+1)
			}
		}
		s.Thresholds = append([]float64(nil), s.Thresholds...)
		copy(pl.ExitThresholds, s.Thresholds)
		pl.ExitThresholds[n-1] = math.Inf(1)
		if mc := p.cals[s.Metric]; mc != nil {
			pl.ExpectedGFLOPs = expectedFor(mc.cal, p.cost, pl.ExitThresholds)
		}
	case s.AvgGFLOPs > 0:
		if err := p.solveAverage(s, pl); err != nil {
			return nil, err
		}
	default: // no average budget: full depth up to the cap
		for i := range pl.ExitThresholds {
			pl.ExitThresholds[i] = math.Inf(-1)
		}
		pl.ExitThresholds[n-1] = math.Inf(1)
		pl.ExpectedGFLOPs = p.cost[n-1]
	}
	pl.Settings = s
	return pl, nil
}

// errNoCalibration explains why an average budget cannot be solved.
var errNoCalibration = errors.New("policy: an average-GFLOPs budget needs a calibration file (run the calibrate command) or explicit thresholds")

func (p *planner) solveAverage(s Settings, pl *Plan) error {
	mc := p.cals[s.Metric]
	if mc == nil && len(p.cals) == 0 {
		return errNoCalibration
	}
	if mc == nil {
		return fmt.Errorf("policy: no calibration measured with metric %s (there is one for %s): write one with the calibrate command's -metric %s, or set explicit thresholds", s.Metric, p.calibratedMetrics(), s.Metric)
	}
	n := pl.MaxExit
	cost := p.cost[:n]
	switch {
	case s.AvgGFLOPs <= cost[0]:
		pl.Note = fmt.Sprintf("average budget %g GFLOPs is at or below exit 1's cost %g: every step exits at exit 1", s.AvgGFLOPs, cost[0])
	case s.AvgGFLOPs >= cost[n-1]:
		pl.Note = fmt.Sprintf("average budget %g GFLOPs covers exit %d's cost %g: no early exit", s.AvgGFLOPs, n, cost[n-1])
	}
	counts := p.counts[:n]
	pl.LogQ = solveThresholds(s.AvgGFLOPs, cost, p.share[:n], pl.ExitThresholds, counts, mc.solver)
	pl.cal = mc
	var sum float64
	for i, c := range counts {
		sum += float64(c) * cost[i]
	}
	pl.ExpectedGFLOPs = sum / float64(mc.cal.Steps())
	return nil
}

// solveThresholds sets th, one threshold per exit of cost (the exits'
// cumulative GFLOPs), so that the calibration's steps spend avg GFLOPs on
// average: geometric exit shares solved for avg, then the greedy rule.
// counts gets how many calibration steps exit at each exit. It returns
// the solved log q, or NaN when avg is outside the exits' costs and every
// step exits at exit 1 or at the last. It allocates nothing.
func solveThresholds(avg float64, cost, share, th []float64, counts []int, s *thresholdSolver) float64 {
	n := len(cost)
	logQ := math.NaN()
	switch {
	case avg <= cost[0]:
		clear(share)
		share[0] = 1
	case avg >= cost[n-1]:
		clear(share)
		share[n-1] = 1
	default:
		logQ = solveQ(avg, cost, share)
	}
	s.solve(share, th, counts)
	if share[0] == 1 {
		th[0] = math.Inf(1) // every step, whatever its distance
	}
	return logQ
}

// expectedFor replays a calibration through explicit thresholds.
func expectedFor(cal *Calibration, cost, th []float64) float64 {
	var sum float64
	for st := 0; st < cal.Steps(); st++ {
		for i, t := range th {
			if cal.Values[i][st] <= t || i == len(th)-1 {
				sum += cost[i]
				break
			}
		}
	}
	return sum / float64(cal.Steps())
}
