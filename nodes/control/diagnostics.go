package control

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Diagnostic levels, as diagnostic_msgs/DiagnosticStatus.
const (
	DiagOK    byte = 0
	DiagWarn  byte = 1
	DiagError byte = 2
	DiagStale byte = 3
)

// KeyValue is diagnostic_msgs/KeyValue.
type KeyValue struct{ Key, Value string }

// DiagnosticStatus is diagnostic_msgs/DiagnosticStatus, in plain Go.
type DiagnosticStatus struct {
	Level      byte
	Name       string
	Message    string
	HardwareID string
	Values     []KeyValue
}

// adherenceSlack is how far the window's average may exceed the average
// budget before diagnostics warn: thresholds come from a calibration, so
// a live window drifts around the budget.
const adherenceSlack = 1.10

// Diagnostics summarises the recent steps for /diagnostics: latency
// percentiles, the exit histogram, budget adherence, and how the last
// frames ended. It is ERROR while a failed step is in the window (a model
// or input fault must not read as OK however long it lasts), WARN when
// messages arrive but no action has come out for
// diagnostics.no_action_warn_s, or when steps reached the deadline before
// their first exit.
func (n *Node) Diagnostics() DiagnosticStatus {
	s := n.loop.Window().Summary()
	act := n.loop.Activity()
	plan := n.eng.Plan()
	d := DiagnosticStatus{Name: "early-exit policy", HardwareID: n.eng.Manifest().Name, Level: DiagOK, Message: "ok"}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	add := func(k, v string) { d.Values = append(d.Values, KeyValue{k, v}) }
	add("steps in window", strconv.Itoa(s.Steps))
	add("latency p50 ms", f(s.LatencyP50))
	add("latency p95 ms", f(s.LatencyP95))
	add("latency p99 ms", f(s.LatencyP99))
	add("avg GFLOPs", f(s.AvgGFLOPs))
	add("peak GFLOPs", f(s.PeakGFLOPs))
	add("avg GFLOPs budget", f(plan.AvgGFLOPs))
	add("peak GFLOPs budget", f(plan.PeakGFLOPs))
	add("memory MB budget", f(plan.MemoryMB))
	add("deepest allowed exit", strconv.Itoa(plan.MaxExit))
	for i := 1; i <= len(n.eng.Manifest().Exits); i++ {
		add(fmt.Sprintf("exit %d steps", i), strconv.Itoa(s.ExitCounts[i]))
	}
	loaded, loadErr := n.eng.LoadedExits()
	add("loaded exits", strconv.Itoa(loaded))
	add("frames in window", strconv.Itoa(s.Frames))
	add("failed steps in window", strconv.Itoa(s.Ended[Failed]))
	for r := Skip(0); int(r) < NumSkips; r++ {
		if r.counted() && r != Stepped && r != Failed {
			add("no action in window: "+r.String(), strconv.Itoa(s.Ended[r]))
		}
	}
	add("deadline cuts in window", strconv.Itoa(s.DeadlineCuts))
	add("instructions refused", strconv.FormatUint(n.loop.Counts().Refused, 10))
	since := act.Now.Sub(act.Started)
	if !act.LastAction.IsZero() {
		since = act.Now.Sub(act.LastAction)
	}
	add("seconds since last action", f(since.Seconds()))

	warnAfter := time.Duration(n.Params().Double(ParamNoActionWarnS) * float64(time.Second))
	quiet := warnAfter > 0 && since >= warnAfter && !act.LastInput.IsZero() && act.Now.Sub(act.LastInput) < warnAfter
	switch {
	case loadErr != nil:
		d.Level, d.Message = DiagError, "loading a deeper block failed: "+loadErr.Error()
	case s.Ended[Failed] > 0:
		d.Level, d.Message = DiagError, fmt.Sprintf("%d of the last %d frames failed to step%s", s.Ended[Failed], s.Frames, skippedText(&s))
	case quiet:
		d.Level, d.Message = DiagWarn, fmt.Sprintf("no action for %.1f s while messages arrive: %s%s", since.Seconds(), act.LastReason, skippedText(&s))
	case s.Ended[OverDeadline] > 0:
		d.Level, d.Message = DiagWarn, fmt.Sprintf("%d of the last %d frames reached control.deadline_ms before the first exit", s.Ended[OverDeadline], s.Frames)
	case s.Steps == 0 && act.LastReason != Stepped:
		d.Level, d.Message = DiagStale, "no steps yet: "+act.LastReason.String()
	case s.Steps == 0:
		d.Level, d.Message = DiagStale, "no steps yet (waiting for images and an instruction)"
	case plan.AvgGFLOPs > 0 && s.AvgGFLOPs > plan.AvgGFLOPs*adherenceSlack && plan.Note == "":
		d.Level, d.Message = DiagWarn, fmt.Sprintf("average %.4g GFLOPs is over the %.4g budget", s.AvgGFLOPs, plan.AvgGFLOPs)
	case plan.Note != "":
		d.Level, d.Message = DiagWarn, plan.Note
	}
	if plan.AvgGFLOPs > 0 {
		add("avg / budget", f(s.AvgGFLOPs/plan.AvgGFLOPs))
		// What budget.window's correction currently solves the thresholds
		// for: below the budget when the robot's steps disagree more
		// between exits than the calibration's did.
		add("thresholds solved for avg GFLOPs", f(s.SolvedGFLOPs))
	}
	return d
}

// skippedText lists the window's frames without an action other than the
// failed ones, by reason: "; no action: 3 stale image, 1 over deadline".
func skippedText(s *Summary) string {
	var parts []string
	for r := Skip(0); int(r) < NumSkips; r++ {
		if r.counted() && r != Stepped && r != Failed && s.Ended[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.Ended[r], r))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; no action: " + strings.Join(parts, ", ")
}
