//go:build ros2

package ros

import (
	"time"

	"github.com/tiiuae/rclgo/pkg/rclgo"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/control"
)

// Subscription callbacks decode and hand over; they never run inference.

func (g *glue) onImage(data []byte, m *msgs.Image, deliver func(*msgs.Image)) error {
	if err := m.UnmarshalCDR(data); err != nil {
		return err
	}
	deliver(m)
	g.poke()
	return nil
}

func (g *glue) onCompressed(data []byte, m *msgs.CompressedImage, deliver func(*msgs.CompressedImage)) error {
	if err := m.UnmarshalCDR(data); err != nil {
		return err
	}
	deliver(m)
	g.poke()
	return nil
}

func (g *glue) onInstruction(data []byte) error {
	if err := g.instr.UnmarshalCDR(data); err != nil {
		return err
	}
	if err := g.loop.OnInstruction(g.instr.Data); err != nil {
		g.logEvery("instruction refused", warnLevel, "%v", err)
		return nil
	}
	g.log.Infof("new instruction: %s (new episode)", control.ShortQuote(g.instr.Data))
	g.poke()
	return nil
}

// onClock takes rosgraph_msgs/Clock, whose only field is a
// builtin_interfaces/Time, so its CDR is a Time's.
func (g *glue) onClock(data []byte) error {
	if err := g.clockMsg.UnmarshalCDR(data); err != nil {
		return err
	}
	g.clock.OnClock(g.clockMsg.Nanos())
	if g.loop.WaitsForClock() {
		g.poke() // a frame that came before the first /clock steps now
	}
	return nil
}

// poke wakes the inference goroutine without blocking.
func (g *glue) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// Log levels of logEvery.
const (
	warnLevel  = rclgo.LogSeverityWarn
	errorLevel = rclgo.LogSeverityError
)

// logThrottle is how often one kind of problem is logged at most, as
// RCLCPP_WARN_THROTTLE does: a flood of bad messages cannot flood the log.
const logThrottle = 5 * time.Second

// logEvery logs at most once every logThrottle per key, each key with its
// own throttle, and reports whether it logged.
func (g *glue) logEvery(key string, level rclgo.LogSeverity, format string, args ...any) bool {
	g.warnMu.Lock()
	last := g.lastWarn[key]
	now := time.Now()
	if now.Sub(last) < logThrottle {
		g.warnMu.Unlock()
		return false
	}
	g.lastWarn[key] = now
	g.warnMu.Unlock()
	g.log.Logf(level, format, args...)
	return true
}

// warnEvery is logEvery at WARN.
func (g *glue) warnEvery(key, format string, args ...any) {
	g.logEvery(key, warnLevel, format, args...)
}
