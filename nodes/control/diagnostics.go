package control

import (
	"fmt"
	"strconv"
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
// percentiles, the exit histogram and budget adherence.
func (n *Node) Diagnostics() DiagnosticStatus {
	s := n.loop.Window().Summary()
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
	switch {
	case loadErr != nil:
		d.Level, d.Message = DiagError, "loading a deeper block failed: "+loadErr.Error()
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
