package replay

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"strings"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
)

// maxListed bounds the malformed messages and step errors a report lists.
const maxListed = 20

// Report summarises a replay. Every field takes fixed memory.
type Report struct {
	Bag, Model string
	Messages   int64 // messages read from the bag
	Malformed  int   // messages that did not decode, skipped
	StepErrors int   // steps that failed (bad input, NaN outputs), skipped
	Problems   []string
	Steps      int                      // actions published
	Skips      [control.NumSkips]int    // ticks without a step, by reason
	ExitCounts [policy.MaxExits + 1]int // [i]: steps that exited at exit i
	Exits      int                      // the model's exit count
	ExitGFLOPs []float64                // cumulative cost of each exit
	Budget     policy.Budget            // budgets in force at the start
	Expected   float64                  // average GFLOPs the plan expects on its calibration, or NaN
	SumGFLOPs  float64                  // decoder GFLOPs spent, all steps
	PeakGFLOPs float64                  // most in one step
	OverPeak   int                      // steps above the peak budget (should be 0)
	latency    latencyHistogram         // step wall time, ms
	errs       actionError              // against expert actions
	exitSeries series                   // exits over time
	hash       hash.Hash                // of every action, for determinism checks
	buf        [8 * 9]byte              // scratch for hashing
}

func newReport(bagPath string, eng *policy.Engine) *Report {
	m := eng.Manifest()
	r := &Report{Bag: bagPath, Model: m.Name, Exits: len(m.Exits), hash: sha256.New(), Budget: eng.Plan().Budget, Expected: eng.Plan().ExpectedGFLOPs}
	for _, e := range m.Exits {
		r.ExitGFLOPs = append(r.ExitGFLOPs, e.GFLOPs)
	}
	return r
}

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < maxListed {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

func (r *Report) addStep(o *control.Output) {
	res := &o.Result
	r.Steps++
	r.ExitCounts[res.Exit]++
	r.SumGFLOPs += res.GFLOPs
	r.PeakGFLOPs = max(r.PeakGFLOPs, res.GFLOPs)
	if r.Budget.PeakGFLOPs > 0 && res.GFLOPs > r.Budget.PeakGFLOPs*(1+1e-9) {
		r.OverPeak++
	}
	r.latency.add(float64(o.Action.LatencyMs))
	r.exitSeries.add(float64(res.Exit))
	r.errs.addPolicy(&o.Action)
	// Hash what must be deterministic: stamp, pose, gripper, exit (not latency).
	a := &o.Action
	b := r.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, uint64(a.Header.Stamp.Nanos()))
	for _, v := range a.PoseDelta {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(a.GripperProbability))
	b = append(b, a.ExitIndex)
	r.hash.Write(b)
}

// ActionsSHA256 identifies the sequence of actions (stamps, poses,
// gripper probabilities and exits; not latencies).
func (r *Report) ActionsSHA256() string { return fmt.Sprintf("%x", r.hash.Sum(nil)) }

// AvgGFLOPs is the realised average decoder GFLOPs per action.
func (r *Report) AvgGFLOPs() float64 {
	if r.Steps == 0 {
		return 0
	}
	return r.SumGFLOPs / float64(r.Steps)
}

// FullGFLOPs is the cost of an action at full depth.
func (r *Report) FullGFLOPs() float64 { return r.ExitGFLOPs[len(r.ExitGFLOPs)-1] }

// LatencyMs returns the p-th percentile of step latency (within 1%).
func (r *Report) LatencyMs(p float64) float64 { return r.latency.percentile(p) }

// PoseRMS is the pose error against the expert actions, NaN without them.
func (r *Report) PoseRMS() float64 { return r.errs.poseRMS() }

// Compared is how many actions had an expert action to compare with.
func (r *Report) Compared() int { return r.errs.compared }

// GripperAgreement is the share of compared actions whose gripper
// command matched the expert's.
func (r *Report) GripperAgreement() float64 {
	if r.errs.compared == 0 {
		return math.NaN()
	}
	return float64(r.errs.gripperAgree) / float64(r.errs.compared)
}

// ExitSeries returns the exits over time, averaged over buckets of
// perPoint steps.
func (r *Report) ExitSeries() (points []float64, perPoint int) { return r.exitSeries.points() }

// Text renders the report for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "replay of %s with model %s\n", r.Bag, r.Model)
	fmt.Fprintf(&b, "  messages read     %d (%d malformed, skipped)\n", r.Messages, r.Malformed)
	fmt.Fprintf(&b, "  actions           %d (%d failed steps", r.Steps, r.StepErrors)
	for s := control.NoImage; int(s) < control.NumSkips; s++ {
		// Waiting for a new frame or its gripper image is how stepping
		// works, not a problem worth a line.
		if r.Skips[s] > 0 && s != control.NotNew && s != control.Incomplete {
			fmt.Fprintf(&b, ", %d skipped: %s", r.Skips[s], s)
		}
	}
	b.WriteString(")\n  exit histogram   ")
	for i := 1; i <= r.Exits; i++ {
		share := 0.0
		if r.Steps > 0 {
			share = 100 * float64(r.ExitCounts[i]) / float64(r.Steps)
		}
		fmt.Fprintf(&b, " %d: %d (%.0f%%)", i, r.ExitCounts[i], share)
	}
	full := r.FullGFLOPs()
	fmt.Fprintf(&b, "\n  decoder GFLOPs    avg %.4g, peak %.4g; full depth %.4g: %.1f%% saved (%.2fx less)\n",
		r.AvgGFLOPs(), r.PeakGFLOPs, full, 100*(1-r.AvgGFLOPs()/full), full/max(r.AvgGFLOPs(), 1e-300))
	fmt.Fprintf(&b, "  budgets           avg %s, peak %s, memory %s\n", orUnset(r.Budget.AvgGFLOPs), orUnset(r.Budget.PeakGFLOPs), orUnset(r.Budget.MemoryMB))
	if r.Budget.AvgGFLOPs > 0 {
		fmt.Fprintf(&b, "  adherence         realised avg / budget = %.3f (calibration expected %.4g)\n", r.AvgGFLOPs()/r.Budget.AvgGFLOPs, r.Expected)
	}
	if r.Budget.PeakGFLOPs > 0 {
		fmt.Fprintf(&b, "  peak adherence    %d steps over the peak budget\n", r.OverPeak)
	}
	fmt.Fprintf(&b, "  latency ms        p50 %.3g, p95 %.3g, p99 %.3g\n", r.LatencyMs(50), r.LatencyMs(95), r.LatencyMs(99))
	if r.Compared() > 0 {
		fmt.Fprintf(&b, "  vs expert         %d actions: pose RMS %.4f, gripper agreement %.1f%%\n", r.Compared(), r.PoseRMS(), 100*r.GripperAgreement())
	}
	fmt.Fprintf(&b, "  actions sha256    %s\n", r.ActionsSHA256())
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  problem: %s\n", p)
	}
	return b.String()
}

func orUnset(v float64) string {
	if v == 0 {
		return "unset"
	}
	return fmt.Sprintf("%g", v)
}
