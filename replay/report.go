package replay

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
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
	// Missing says, one sentence each, which inputs the model needs the
	// bag has no topic for (under the names read), and what it has.
	Missing    []string
	Steps      int                      // actions published
	NotRun     map[string]int           // static images that got no action, by reason: a control.Skip's text, or Failed
	Ticks      int64                    // control loop ticks run
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

// Why a replay published no action, for [Report.Check]; the command's exit
// status tells them apart.
var (
	ErrNoStep    = errors.New("no step ran")
	ErrAllFailed = errors.New("every step failed")
)

func newReport(bagPath string, eng *policy.Engine) *Report {
	m := eng.Manifest()
	r := &Report{Bag: bagPath, Model: m.Name, Exits: len(m.Exits), hash: sha256.New(), Budget: eng.Plan().Budget, Expected: eng.Plan().ExpectedGFLOPs,
		NotRun: map[string]int{}}
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

// NotRunTotal is how many static images got no action.
func (r *Report) NotRunTotal() int {
	n := 0
	for _, c := range r.NotRun {
		n += c
	}
	return n
}

// Check returns nil when the replay published an action, else why not:
// an error wrapping ErrAllFailed when steps ran and every one failed, or
// ErrNoStep (missing topics, no instruction, stale images...).
func (r *Report) Check() error {
	switch {
	case r.Steps > 0:
		return nil
	case r.StepErrors > 0:
		return fmt.Errorf("%w: %d steps ran and none gave an action (see the problems listed)", ErrAllFailed, r.StepErrors)
	case len(r.Missing) > 0:
		return fmt.Errorf("%w: %s", ErrNoStep, r.Missing[0])
	case len(r.NotRun) > 0:
		return fmt.Errorf("%w: %s", ErrNoStep, r.notRunText())
	}
	return fmt.Errorf("%w: the bag has no static camera image on the topics read", ErrNoStep)
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

// Text renders the report for a terminal, in plain words. With no
// action it says why, and prints no figure it cannot measure.
func (r *Report) Text() string {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-24s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "replay of %s with model %s\n", r.Bag, r.Model)
	for _, m := range r.Missing {
		line("MISSING INPUT", "%s", m)
	}
	line("messages read", "%d (%d could not be decoded, skipped)", r.Messages, r.Malformed)
	if r.Steps == 0 {
		line("actions", "none")
	} else {
		line("actions", "%d", r.Steps)
	}
	if n := r.NotRunTotal(); n > 0 {
		line("images without action", "%d (%s)", n, r.notRunText())
	} else {
		line("images without action", "none")
	}
	if r.Steps == 0 {
		b.WriteString("  (no action, so no figures of compute, time or error)\n")
	} else {
		r.figures(line)
	}
	for _, p := range r.Problems {
		line("problem", "%s", p)
	}
	return b.String()
}

// figures writes the measured lines of a report with actions.
func (r *Report) figures(line func(label, format string, args ...any)) {
	var hist []string
	for i := 1; i <= r.Exits; i++ {
		hist = append(hist, fmt.Sprintf("%d: %d (%.0f%%)", i, r.ExitCounts[i], 100*float64(r.ExitCounts[i])/float64(r.Steps)))
	}
	line("actions per exit", "%s", strings.Join(hist, ", "))
	full, avg := r.FullGFLOPs(), r.AvgGFLOPs()
	saving := "none saved"
	if avg > 0 && avg < full {
		saving = fmt.Sprintf("%.1f%% saved, %.2fx less", 100*(1-avg/full), full/avg)
	}
	line("decoder GFLOPs", "%.4g per action on average, %.4g at most; full depth %.4g (%s)", avg, r.PeakGFLOPs, full, saving)
	line("budgets", "average %s, peak %s, memory %s", orUnset(r.Budget.AvgGFLOPs, " GFLOPs"), orUnset(r.Budget.PeakGFLOPs, " GFLOPs"), orUnset(r.Budget.MemoryMB, " MB"))
	if r.Budget.AvgGFLOPs > 0 {
		expected := "no calibration"
		if !math.IsNaN(r.Expected) {
			expected = fmt.Sprintf("the calibration expected %.4g", r.Expected)
		}
		line("average vs budget", "%.3f times the average budget (%s)", avg/r.Budget.AvgGFLOPs, expected)
	}
	if r.Budget.PeakGFLOPs > 0 {
		line("over the peak budget", "%d actions", r.OverPeak)
	}
	line("step time", "median %.3g ms, 95th percentile %.3g ms, 99th percentile %.3g ms", r.LatencyMs(50), r.LatencyMs(95), r.LatencyMs(99))
	if r.Compared() > 0 {
		line("against the expert", "%d actions compared: pose error (RMS) %.4f, gripper command agrees %.1f%%", r.Compared(), r.PoseRMS(), 100*r.GripperAgreement())
	} else {
		line("against the expert", "no expert actions with the same stamps")
	}
	line("actions fingerprint", "SHA-256 %s", r.ActionsSHA256())
}

// notRunText lists the reasons images got no action, most frequent first.
func (r *Report) notRunText() string {
	reasons := make([]string, 0, len(r.NotRun))
	for why := range r.NotRun {
		reasons = append(reasons, why)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := reasons[i], reasons[j]
		return r.NotRun[a] > r.NotRun[b] || r.NotRun[a] == r.NotRun[b] && a < b
	})
	for i, why := range reasons {
		reasons[i] = fmt.Sprintf("%d %s", r.NotRun[why], why)
	}
	return strings.Join(reasons, ", ")
}

func orUnset(v float64, unit string) string {
	if v == 0 {
		return "not set"
	}
	return fmt.Sprintf("%g%s", v, unit)
}

// checkTopics notes, in Missing, each input the model needs that the bag
// has no topic of the right type for.
func (r *Report) checkTopics(t Topics, m *policy.Manifest, all []bag.TopicInfo) {
	needGripper := false
	for _, c := range m.Cameras {
		needGripper = needGripper || c.Slot == policy.SlotGripper
	}
	type name struct{ topic, typ string }
	d := DefaultTopics // the names -remap takes
	inputs := []struct {
		what, remap string
		needed      bool
		names       []name
	}{
		{"static camera", d.Static, true, []name{{t.Static, msgs.ImageType}, {t.StaticCompressed, msgs.CompressedImageType}}},
		{"gripper camera", d.Gripper, needGripper, []name{{t.Gripper, msgs.ImageType}, {t.GripperCompressed, msgs.CompressedImageType}}},
		{"instruction", d.Instruction, true, []name{{t.Instruction, msgs.StringType}}},
	}
	types := map[string]string{}
	for _, ti := range all {
		types[ti.Name] = ti.Type
	}
	for _, in := range inputs {
		if !in.needed {
			continue
		}
		var want, wrong []string
		found := false
		for _, n := range in.names {
			if n.topic == "" {
				continue
			}
			want = append(want, fmt.Sprintf("%s (%s)", n.topic, n.typ))
			switch typ, ok := types[n.topic]; {
			case ok && typ == n.typ:
				found = true
			case ok:
				wrong = append(wrong, fmt.Sprintf("%s is %s", n.topic, typ))
			}
		}
		if found {
			continue
		}
		msg := fmt.Sprintf("the model needs the %s, the replay reads it from %s, and the bag has no such topic", in.what, strings.Join(want, " or "))
		if len(wrong) > 0 {
			msg = fmt.Sprintf("the model needs the %s, the replay reads it from %s, and in the bag %s", in.what, strings.Join(want, " or "), strings.Join(wrong, ", "))
		}
		msg += fmt.Sprintf("; name the bag's topic with -remap %s:=TOPIC", in.remap)
		r.Missing = append(r.Missing, msg+". The bag has "+describeTopics(all))
	}
}

// describeTopics lists a bag's topics with their types.
func describeTopics(all []bag.TopicInfo) string {
	if len(all) == 0 {
		return "no topics."
	}
	var parts []string
	for _, ti := range all {
		parts = append(parts, fmt.Sprintf("%s (%s)", ti.Name, ti.Type))
	}
	return strings.Join(parts, ", ") + "."
}
