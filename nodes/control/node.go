package control

import (
	"strings"
	"sync"
	"time"

	"github.com/deervla/deer_vla/policy"
)

// Node is the ROS-free core of the deer_vla node: its parameters, the
// engine and the control loop. The rclgo glue (nodes/ros) and the replay
// drive it the same way.
type Node struct {
	mu     sync.Mutex // serialises parameter changes
	params Params
	eng    *policy.Engine
	loop   *Loop
}

// NewNode wraps an engine opened with p (see OpenEngine) and applies p's
// live values to it.
func NewNode(eng *policy.Engine, p Params) (*Node, error) {
	n := &Node{params: p, eng: eng, loop: NewLoop(eng, int(p.Int(ParamStatsWindow)))}
	if _, err := eng.SetSettings(p.Settings()); err != nil {
		return nil, err
	}
	n.applyLimits(p)
	return n, nil
}

// Loop returns the control loop.
func (n *Node) Loop() *Loop { return n.loop }

// Engine returns the engine.
func (n *Node) Engine() *policy.Engine { return n.eng }

// Params returns the parameters in force.
func (n *Node) Params() Params {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.params
}

// SetParams applies a batch of changes atomically: every value is checked
// against its descriptor, then the engine validates the resulting settings;
// if anything is wrong the whole batch is rejected with the reasons and the
// old values stay. Accepted changes apply from the next step.
func (n *Node) SetParams(changes map[string]Value) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	next, err := n.params.With(changes, false)
	if err != nil {
		return err
	}
	if _, err := n.eng.SetSettings(next.Settings()); err != nil {
		return reasonFor(changes, err)
	}
	n.params = next
	n.applyLimits(next)
	return nil
}

// reasonFor names the changed parameters in an engine's refusal.
// The engine's "policy: " prefix means nothing to a ros2 param user.
func reasonFor(changes map[string]Value, err error) error {
	names := sortedKeys(changes)
	reason := strings.TrimPrefix(err.Error(), "policy: ")
	if len(names) == 1 {
		return &ParamError{Name: names[0], Value: changes[names[0]], Reason: reason}
	}
	return &ParamError{Name: strings.Join(names, ", "), Value: Value{}, Reason: reason}
}

func (n *Node) applyLimits(p Params) {
	n.loop.SetLimits(time.Duration(p.Double(ParamMaxImageAgeMs)*float64(time.Millisecond)), p.Double(ParamActionClamp))
	n.loop.SetEveryImage(p.Period() == 0)
	fallback, _ := ParseFallback(p.Str(ParamDeadlineFallback)) // checked by With
	n.loop.SetDeadline(time.Duration(p.Double(ParamDeadlineMs)*float64(time.Millisecond)), fallback)
}

// Period returns the control period (0: step on every new static image).
func (p Params) Period() time.Duration {
	hz := p.Double(ParamRateHz)
	if hz <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / hz)
}
