package control

import (
	"fmt"
	"time"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
)

// Fallback is what the node publishes when control.deadline_ms passes
// before a step's first exit (the policy then has no action to give).
type Fallback int

const (
	// FallbackNone publishes nothing: the arm's controller sees a missed
	// action, as it would from a dropped message.
	FallbackNone Fallback = iota
	// FallbackStop publishes zero pose deltas with the last gripper
	// command: the arm stays where it is and the gripper keeps its grip.
	FallbackStop
	// FallbackHold repeats the last published action: the arm keeps
	// moving as it did (a zero-order hold), for controllers that treat a
	// missing action as a fault.
	FallbackHold
)

// FallbackNames lists the values of control.deadline_fallback.
var FallbackNames = [...]string{"none", "stop", "hold"}

func (f Fallback) String() string { return FallbackNames[f] }

// ParseFallback reads a control.deadline_fallback value.
func ParseFallback(s string) (Fallback, error) {
	for i, n := range FallbackNames {
		if n == s {
			return Fallback(i), nil
		}
	}
	return FallbackNone, fmt.Errorf("want one of none, stop, hold")
}

// SetDeadline sets the live step deadline (0: none) and what to publish
// when it passes before the first exit.
func (l *Loop) SetDeadline(d time.Duration, f Fallback) {
	l.mu.Lock()
	l.deadline, l.fallback = d, f
	l.mu.Unlock()
}

// overDeadline handles a step whose deadline passed before its first
// exit: the fallback action, when one is set and an action of this
// episode was published to fall back on (nothing otherwise: a stop needs
// the gripper command to keep, and an earlier task's motion is not to be
// repeated).
func (l *Loop) overDeadline(r *policy.StepResult, f Fallback, start time.Time) *Output {
	l.outcome(OverDeadline)
	if f == FallbackNone || !l.prev.valid || l.prev.episode != l.lastEpisode {
		return nil
	}
	r.Total = l.eng.Now().Sub(start)
	o := &l.out
	o.Result = *r
	a := &o.Action
	*a = l.prev.action
	a.Header = msgs.Header{Stamp: l.static.stamp, FrameID: l.static.frameID}
	if f == FallbackStop {
		a.PoseDelta = [6]float32{}
	}
	a.ExitIndex, a.GFLOPs, a.LatencyMs = 0, 0, ms(r.Total)
	l.fillStats(r)
	return o
}
