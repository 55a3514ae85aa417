package policy

import (
	"fmt"
	"runtime"
	"strings"
)

// StepError is a step that failed; the engine's committed state is as it
// was before the step.
type StepError struct {
	Stage string // "input", "encoder", "head", "exit 3", "action", ...
	Err   error
}

func (e *StepError) Error() string { return fmt.Sprintf("policy: step: %s: %v", e.Stage, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// PanicError is the StepError of a panic recovered in stage. Call it from
// the deferred function that recovered, so that it can name where the
// panic was raised.
func PanicError(stage string, recovered any) *StepError {
	if site := panicSite(); site != "" {
		return &StepError{stage, fmt.Errorf("panic: %v (at %s)", recovered, site)}
	}
	return &StepError{stage, fmt.Errorf("panic: %v", recovered)}
}

// panicSite is the function and line that raised the panic being
// recovered: the first frame below runtime.gopanic that is not the
// runtime's own (an index check, a nil dereference).
func panicSite() string {
	var pcs [32]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs[:])])
	seen := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			seen = true
		case seen && !strings.HasPrefix(f.Function, "runtime."):
			return fmt.Sprintf("%s:%d", f.Function, f.Line)
		}
		if !more {
			return ""
		}
	}
}

// part is where a step is, to name the stage of a failure: an exit number
// (its block and its head evaluation) or one of the parts below.
type part int

const (
	partPlan      part = -1 - iota // following the plan's thresholds
	partInput                      // preprocessing, tokenising
	partEncoder                    // the encoder
	partReference                  // the head on the reference feature
	partAction                     // scaling and checking the chosen action
)

func (p part) String() string {
	switch p {
	case partPlan:
		return "thresholds"
	case partInput:
		return "input"
	case partEncoder:
		return "encoder"
	case partReference:
		return "head"
	case partAction:
		return "action"
	}
	return fmt.Sprintf("exit %d", int(p))
}
