package fleet

import (
	"math"

	"github.com/deervla/deer_vla/replay"
)

// Job is one replay: a bag at one point of a budget sweep.
type Job struct {
	Bag string `json:"bag"`
	// Point is the sweep point: 0 replays with the parameters as given,
	// 1..n at Budget.
	Point  int     `json:"point"`
	Budget float64 `json:"budget"`
	// Shard picks the group of bags a worker takes (see Options.Workers).
	Shard int `json:"shard"`
}

// Row is one bag's result: a line of rows.jsonl.
type Row struct {
	Bag   string `json:"bag"`
	Point int    `json:"sweep_point"`
	// AvgBudget is the average GFLOPs budget in force (0: none).
	AvgBudget float64 `json:"avg_gflops_budget"`
	// Error says why the bag gave no result (unreadable, no step ran, ...);
	// empty for a bag that replayed.
	Error string `json:"error,omitempty"`
	// ActionsSHA256 identifies the bag's actions, as deer_vla_replay prints it.
	ActionsSHA256 string   `json:"actions_sha256,omitempty"`
	AvgGFLOPs     float64  `json:"avg_gflops"`
	PoseRMS       *float64 `json:"pose_rms,omitempty"` // against the expert, when the bag has one
	LatencyP50Ms  float64  `json:"latency_p50_ms"`
	LatencyP95Ms  float64  `json:"latency_p95_ms"`
	LatencyP99Ms  float64  `json:"latency_p99_ms"`
	// Seconds is the bag's wall time on its worker (staging included).
	Seconds float64 `json:"seconds"`
	// Totals are the additive figures the summary is combined from.
	Totals replay.Totals `json:"totals"`
}

// rowOf fills a row from a replay's report.
func rowOf(j Job, budget float64, rep *replay.Report) Row {
	r := Row{Bag: j.Bag, Point: j.Point, AvgBudget: budget, Totals: rep.Totals(), ActionsSHA256: rep.ActionsSHA256()}
	r.AvgGFLOPs = r.Totals.AvgGFLOPs()
	if v := r.Totals.PoseRMS(); !math.IsNaN(v) {
		r.PoseRMS = &v
	}
	r.LatencyP50Ms, r.LatencyP95Ms, r.LatencyP99Ms = rep.LatencyMs(50), rep.LatencyMs(95), rep.LatencyMs(99)
	return r
}

// badness orders bags from worst to best for the summary's worst list:
// bags that failed, then by failed steps, then by pose error.
func (r Row) badness() (failed bool, stepErrors int, poseRMS float64) {
	rms := -1.0
	if r.PoseRMS != nil {
		rms = *r.PoseRMS
	}
	return r.Error != "", r.Totals.StepErrors, rms
}

// worse reports whether a is worse than b, with the bag path as the tie
// breaker so that the order is total and the worst list is the same
// whichever way rows are combined.
func worse(a, b Row) bool {
	af, ae, ar := a.badness()
	bf, be, br := b.badness()
	switch {
	case af != bf:
		return af
	case ae != be:
		return ae > be
	case ar != br:
		return ar > br
	}
	return a.Bag < b.Bag
}
