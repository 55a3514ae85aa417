package replay

import (
	"math"
	"testing"
)

// Totals of two halves, added, give the same figures as one report of
// both: what a fleet replay's combined summary relies on.
func TestTotalsAddLikeOneReport(t *testing.T) {
	var whole, a, b latencyHistogram
	for i, ms := range []float64{0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55} {
		whole.add(ms)
		if i%2 == 0 {
			a.add(ms)
		} else {
			b.add(ms)
		}
	}
	ta := Totals{Steps: 5, SumGFLOPs: 10, ExitCounts: []int{2, 3}, Compared: 5, PoseSqErr: 0.5, GripperAgree: 4, NotRun: map[string]int{"stale image": 1}}
	tb := Totals{Steps: 5, SumGFLOPs: 20, ExitCounts: []int{1, 4}, Compared: 5, PoseSqErr: 1.5, GripperAgree: 5, NotRun: map[string]int{"stale image": 2, "no instruction yet": 1}}
	ta.Latency, tb.Latency = counts(&a), counts(&b)
	var sum Totals
	sum.Add(ta)
	sum.Add(tb)
	if sum.Steps != 10 || sum.AvgGFLOPs() != 3 || sum.ExitCounts[0] != 3 || sum.ExitCounts[1] != 7 {
		t.Errorf("sum %+v: want 10 steps, avg 3 GFLOPs, exits [3 7]", sum)
	}
	if got, want := sum.PoseRMS(), math.Sqrt(2.0/10); math.Abs(got-want) > 1e-15 {
		t.Errorf("pose RMS %g, want %g", got, want)
	}
	if sum.GripperAgreement() != 0.9 || sum.NotRun["stale image"] != 3 || sum.NotRun["no instruction yet"] != 1 {
		t.Errorf("agreement %g, skipped %v", sum.GripperAgreement(), sum.NotRun)
	}
	for _, p := range []float64{50, 95, 99} {
		if got, want := sum.LatencyMs(p), whole.percentile(p); got != want {
			t.Errorf("p%g latency %g, want %g (one histogram of all steps)", p, got, want)
		}
	}
	var none Totals
	if none.AvgGFLOPs() != 0 || !math.IsNaN(none.PoseRMS()) || none.LatencyMs(50) != 0 {
		t.Errorf("empty totals: avg %g, RMS %g, p50 %g", none.AvgGFLOPs(), none.PoseRMS(), none.LatencyMs(50))
	}
}

func counts(h *latencyHistogram) map[int]uint64 {
	m := map[int]uint64{}
	for i, n := range h.counts {
		if n > 0 {
			m[i] = n
		}
	}
	return m
}
