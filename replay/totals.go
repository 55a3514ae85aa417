package replay

import "math"

// Totals are a report's additive figures. Replays of many bags (a fleet
// replay) combine by adding their totals, in any order, and every fleet
// figure (exit histogram, average GFLOPs, action error, latency
// percentiles, failures and skips by reason) is computed from the sum.
type Totals struct {
	Messages   int64          `json:"messages"`
	Malformed  int            `json:"malformed"`
	StepErrors int            `json:"failed_steps"`
	NotRun     map[string]int `json:"not_run,omitempty"` // static images that got no action, by reason (Report.NotRun)
	Steps      int            `json:"actions"`
	// ExitCounts[i] is the number of steps that exited at exit i+1.
	ExitCounts []int   `json:"exit_counts"`
	SumGFLOPs  float64 `json:"sum_gflops"`
	PeakGFLOPs float64 `json:"peak_gflops"`
	OverPeak   int     `json:"over_peak"`
	// Against expert actions: steps compared, gripper agreements, and the
	// sum over compared steps of the mean squared pose error.
	Compared     int     `json:"compared"`
	GripperAgree int     `json:"gripper_agree"`
	PoseSqErr    float64 `json:"pose_sq_err"`
	// Latency is the step-latency histogram: bucket index -> steps, in
	// log-spaced buckets 1% wide from 1 µs (nonzero buckets only).
	Latency map[int]uint64 `json:"latency_hist,omitempty"`
}

// Totals returns the report's additive figures.
func (r *Report) Totals() Totals {
	t := Totals{
		Messages: r.Messages, Malformed: r.Malformed, StepErrors: r.StepErrors, Steps: r.Steps,
		SumGFLOPs: r.SumGFLOPs, PeakGFLOPs: r.PeakGFLOPs, OverPeak: r.OverPeak,
		Compared: r.errs.compared, GripperAgree: r.errs.gripperAgree, PoseSqErr: r.errs.poseSqErr,
		ExitCounts: append([]int(nil), r.ExitCounts[1:r.Exits+1]...),
	}
	for why, n := range r.NotRun {
		if t.NotRun == nil {
			t.NotRun = map[string]int{}
		}
		t.NotRun[why] = n
	}
	for i, n := range r.latency.counts {
		if n > 0 {
			if t.Latency == nil {
				t.Latency = map[int]uint64{}
			}
			t.Latency[i] = n
		}
	}
	return t
}

// Add adds o to t.
func (t *Totals) Add(o Totals) {
	t.Messages += o.Messages
	t.Malformed += o.Malformed
	t.StepErrors += o.StepErrors
	t.Steps += o.Steps
	t.SumGFLOPs += o.SumGFLOPs
	t.PeakGFLOPs = max(t.PeakGFLOPs, o.PeakGFLOPs)
	t.OverPeak += o.OverPeak
	t.Compared += o.Compared
	t.GripperAgree += o.GripperAgree
	t.PoseSqErr += o.PoseSqErr
	for len(t.ExitCounts) < len(o.ExitCounts) {
		t.ExitCounts = append(t.ExitCounts, 0)
	}
	for i, n := range o.ExitCounts {
		t.ExitCounts[i] += n
	}
	for k, n := range o.NotRun {
		if t.NotRun == nil {
			t.NotRun = map[string]int{}
		}
		t.NotRun[k] += n
	}
	for k, n := range o.Latency {
		if t.Latency == nil {
			t.Latency = map[int]uint64{}
		}
		t.Latency[k] += n
	}
}

// AvgGFLOPs is the average decoder GFLOPs per action, 0 without actions.
func (t Totals) AvgGFLOPs() float64 {
	if t.Steps == 0 {
		return 0
	}
	return t.SumGFLOPs / float64(t.Steps)
}

// PoseRMS is the pose error against the expert actions, NaN without them.
func (t Totals) PoseRMS() float64 {
	if t.Compared == 0 {
		return math.NaN()
	}
	return math.Sqrt(t.PoseSqErr / float64(t.Compared))
}

// GripperAgreement is the share of compared actions whose gripper command
// matched the expert's, NaN without them.
func (t Totals) GripperAgreement() float64 {
	if t.Compared == 0 {
		return math.NaN()
	}
	return float64(t.GripperAgree) / float64(t.Compared)
}

// LatencyMs is the p-th percentile of step latency (within 1%), as
// Report.LatencyMs.
func (t Totals) LatencyMs(p float64) float64 {
	var h latencyHistogram
	for i, n := range t.Latency {
		if i >= 0 && i < len(h.counts) {
			h.counts[i] += n
			h.n += n
		}
	}
	return h.percentile(p)
}
