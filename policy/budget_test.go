package policy

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

func randomCalibration(rng *rand.Rand, exits, steps int) *Calibration {
	c := &Calibration{Metric: MetricRMS, Values: make([][]float64, exits)}
	for i := range c.Values {
		c.Values[i] = make([]float64, steps)
		for s := range c.Values[i] {
			// Deeper exits are closer to their predecessor, as in DeeR.
			c.Values[i][s] = rng.ExpFloat64() / float64(i+1)
		}
	}
	return c
}

// bruteGreedy is the greedy rule of deer-method.md written the slow, obvious
// way: sort the remaining steps' values at every exit.
func bruteGreedy(c *Calibration, share []float64) []float64 {
	n, steps := len(share), c.Steps()
	exited := make([]bool, steps)
	th := make([]float64, n)
	done := 0
	cum := 0.0
	for i := 0; i < n-1; i++ {
		cum += share[i]
		target := int(math.Round(cum*float64(steps))) - done
		var rest []float64
		for s := 0; s < steps; s++ {
			if !exited[s] {
				rest = append(rest, c.Values[i][s])
			}
		}
		sort.Float64s(rest)
		th[i] = math.Inf(-1)
		if target > 0 {
			th[i] = rest[target-1]
			for s := 0; s < steps; s++ {
				if !exited[s] && c.Values[i][s] <= th[i] {
					exited[s] = true
					done++
				}
			}
		}
	}
	th[n-1] = math.Inf(1)
	return th
}

func TestThresholdSolverMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		exits := 2 + rng.IntN(5)
		c := randomCalibration(rng, exits, 1+rng.IntN(300))
		if trial%5 == 0 { // ties: quantised values
			for _, v := range c.Values {
				for s := range v {
					v[s] = math.Round(v[s]*4) / 4
				}
			}
		}
		share := make([]float64, exits)
		exitShares(rng.Float64()*4-2, share)
		th, counts := make([]float64, exits), make([]int, exits)
		newThresholdSolver(c).solve(share, th, counts)
		if want := bruteGreedy(c, share); !slices.Equal(th, want) {
			t.Fatalf("trial %d: thresholds %v, brute force %v", trial, th, want)
		}
		// The counts are what the thresholds really do on the calibration.
		replay := make([]int, exits)
		for s := 0; s < c.Steps(); s++ {
			for i := range th {
				if c.Values[i][s] <= th[i] {
					replay[i]++
					break
				}
			}
		}
		if !slices.Equal(counts, replay) {
			t.Fatalf("trial %d: counts %v, replay %v", trial, counts, replay)
		}
	}
}

func TestSolveQMeetsTheBudget(t *testing.T) {
	cost := []float64{1.3, 2.6, 3.9, 5.2, 6.5, 7.8}
	share := make([]float64, len(cost))
	prev := math.Inf(-1)
	for _, avg := range []float64{1.31, 2, 3.3, 4.55, 6, 7.79} {
		logQ := solveQ(avg, cost, share)
		if got := expectedGFLOPs(share, cost); math.Abs(got-avg) > 1e-9 {
			t.Errorf("budget %v: expected cost %v", avg, got)
		}
		if logQ <= prev {
			t.Errorf("budget %v: log q %v not above %v (cost must be monotone in q)", avg, logQ, prev)
		}
		prev = logQ
		var sum float64
		for _, s := range share {
			sum += s
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("shares sum to %v", sum)
		}
	}
}

func testManifest(exits int) *Manifest {
	m := &Manifest{Encoder: StageSpec{WeightBytes: 1e6}, Head: HeadSpec{WeightBytes: 1e6}}
	for i := 1; i <= exits; i++ {
		m.Exits = append(m.Exits, ExitSpec{StageSpec: StageSpec{GFLOPs: float64(i), WeightBytes: int64(i) * 1e6}})
	}
	return m
}

func TestMaxExitFromPeakAndMemory(t *testing.T) {
	m := testManifest(6)
	tests := []struct {
		name  string
		b     Budget
		wexit int
		werr  bool
	}{
		{"unset", Budget{}, 6, false},
		{"peak between exits", Budget{PeakGFLOPs: 3.5}, 3, false},
		{"peak exactly an exit", Budget{PeakGFLOPs: 4}, 4, false},
		{"peak above all", Budget{PeakGFLOPs: 100}, 6, false},
		{"peak below exit 1", Budget{PeakGFLOPs: 0.99}, 0, true},
		{"memory: 2 MB fixed + 2 MB", Budget{MemoryMB: 4.5}, 2, false},
		{"memory below exit 1", Budget{MemoryMB: 2.9}, 0, true},
		{"both, memory tighter", Budget{PeakGFLOPs: 5, MemoryMB: 5}, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := m.MaxExit(tc.b)
			if tc.werr != (err != nil) || n != tc.wexit {
				t.Fatalf("MaxExit = %d, %v; want %d, error %v", n, err, tc.wexit, tc.werr)
			}
			if err != nil && !errors.Is(err, ErrBudgetInfeasible) {
				t.Fatalf("error %v is not ErrBudgetInfeasible", err)
			}
		})
	}
}

// The average budget's edges: at or below exit 1's cost every step exits
// at exit 1; at or above the deepest allowed exit's cost none exits early.
func TestAverageBudgetEdgesAndMiddle(t *testing.T) {
	m := testManifest(4)
	cal := randomCalibration(rand.New(rand.NewPCG(3, 4)), 4, 5000)
	p, err := newPlanner(m, []*Calibration{cal})
	if err != nil {
		t.Fatal(err)
	}
	inf := math.Inf(1)
	tests := []struct {
		name     string
		b        Budget
		wmax     int
		wfirst   float64 // threshold of exit 1
		wexpect  float64
		wclamped bool
	}{
		{"below exit 1", Budget{AvgGFLOPs: 0.5}, 4, inf, 1, true},
		{"exactly exit 1", Budget{AvgGFLOPs: 1}, 4, inf, 1, true},
		{"above full depth", Budget{AvgGFLOPs: 9}, 4, math.Inf(-1), 4, true},
		{"above the cap's depth", Budget{AvgGFLOPs: 3.5, PeakGFLOPs: 3}, 3, math.Inf(-1), 3, true},
		{"middle", Budget{AvgGFLOPs: 2.2}, 4, math.NaN(), 2.2, false},
		{"middle under a cap", Budget{AvgGFLOPs: 1.7, PeakGFLOPs: 2.5}, 2, math.NaN(), 1.7, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pl, err := p.plan(Settings{Budget: tc.b})
			if err != nil {
				t.Fatal(err)
			}
			if pl.MaxExit != tc.wmax || len(pl.ExitThresholds) != tc.wmax || !math.IsInf(pl.ExitThresholds[tc.wmax-1], 1) {
				t.Fatalf("max exit %d, thresholds %v", pl.MaxExit, pl.ExitThresholds)
			}
			if !math.IsNaN(tc.wfirst) && pl.ExitThresholds[0] != tc.wfirst && tc.wmax > 1 {
				t.Fatalf("exit 1 threshold %v, want %v", pl.ExitThresholds[0], tc.wfirst)
			}
			if math.Abs(pl.ExpectedGFLOPs-tc.wexpect) > 0.01 {
				t.Fatalf("expected %v GFLOPs on the calibration, want %v", pl.ExpectedGFLOPs, tc.wexpect)
			}
			if (pl.Note != "") != tc.wclamped {
				t.Fatalf("note %q", pl.Note)
			}
		})
	}
}

func TestAverageBudgetNeedsMatchingCalibration(t *testing.T) {
	m := testManifest(4)
	p, _ := newPlanner(m, nil)
	if _, err := p.plan(Settings{Budget: Budget{AvgGFLOPs: 2}}); !errors.Is(err, errNoCalibration) {
		t.Fatalf("no calibration: %v", err)
	}
	cal := randomCalibration(rand.New(rand.NewPCG(1, 1)), 4, 100)
	p, _ = newPlanner(m, []*Calibration{cal})
	_, err := p.plan(Settings{Budget: Budget{AvgGFLOPs: 2}, Metric: MetricL2})
	if err == nil || !strings.Contains(err.Error(), "metric l2 (there is one for rms)") {
		t.Fatalf("an l2 budget on an rms calibration: %v", err)
	}
	if _, err := newPlanner(testManifest(3), []*Calibration{cal}); err == nil {
		t.Fatal("a 4-exit calibration was accepted for a 3-exit model")
	}
	if p, err := newPlanner(m, []*Calibration{nil, cal}); err != nil || len(p.cals) != 1 {
		t.Fatalf("a nil calibration beside one: %v", err)
	}
	if _, err := newPlanner(m, []*Calibration{cal, cal}); err == nil || !strings.Contains(err.Error(), "two calibrations") {
		t.Fatalf("two rms calibrations: %v", err)
	}
}

// With one calibration per metric, a budget is solved from the settings'
// metric's own: switching the metric switches the distances the thresholds
// are quantiles of.
func TestAverageBudgetUsesTheMetricsCalibration(t *testing.T) {
	m := testManifest(4)
	rms := randomCalibration(rand.New(rand.NewPCG(7, 8)), 4, 2000)
	cosine := randomCalibration(rand.New(rand.NewPCG(9, 10)), 4, 2000)
	cosine.Metric = MetricCosine
	for i := range cosine.Values {
		for j := range cosine.Values[i] {
			cosine.Values[i][j] *= 100 // a different scale, as cosine's is
		}
	}
	p, err := newPlanner(m, []*Calibration{rms, cosine})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		metric Metric
		cal    *Calibration
	}{{MetricRMS, rms}, {MetricCosine, cosine}} {
		pl, err := p.plan(Settings{Budget: Budget{AvgGFLOPs: 2.2}, Metric: tc.metric})
		if err != nil {
			t.Fatal(err)
		}
		// The thresholds replayed on the metric's calibration give the
		// budget, and they lie inside that calibration's range.
		if got := expectedFor(tc.cal, p.cost, pl.ExitThresholds); math.Abs(got-2.2) > 0.01 {
			t.Errorf("%s: thresholds give %.3f GFLOPs on its calibration, want 2.2", tc.metric, got)
		}
		if th := pl.ExitThresholds[0]; th > slices.Max(tc.cal.Values[0]) || th < slices.Min(tc.cal.Values[0]) {
			t.Errorf("%s: exit 1 threshold %g outside its calibration's range", tc.metric, th)
		}
	}
	if _, err := p.plan(Settings{Budget: Budget{AvgGFLOPs: 2.2}, Metric: MetricMax}); err == nil ||
		!strings.Contains(err.Error(), "(there is one for cosine, rms)") {
		t.Fatalf("a max budget: %v", err)
	}
}

func BenchmarkThresholdSolve100k(b *testing.B) {
	m := testManifest(6)
	cal := randomCalibration(rand.New(rand.NewPCG(5, 6)), 6, 100_000)
	p, err := newPlanner(m, []*Calibration{cal})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	budgets := []float64{1.8, 2.5, 3.1, 4.4}
	for i := 0; b.Loop(); i++ {
		if _, err := p.plan(Settings{Budget: Budget{AvgGFLOPs: budgets[i%len(budgets)]}}); err != nil {
			b.Fatal(err)
		}
	}
}
