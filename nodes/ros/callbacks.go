//go:build ros2

package ros

import (
	"time"

	"github.com/deervla/deer_vla/msgs"
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
	g.log.Infof("new instruction: %q (new episode)", g.instr.Data)
	g.loop.OnInstruction(g.instr.Data)
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
	return nil
}

// poke wakes the inference goroutine without blocking.
func (g *glue) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// warnEvery logs a warning at most once every 5 s per key, so a flood of
// bad messages cannot flood the log.
func (g *glue) warnEvery(key, format string, args ...any) {
	g.warnMu.Lock()
	last := g.lastWarn[key]
	now := time.Now()
	if now.Sub(last) < 5*time.Second {
		g.warnMu.Unlock()
		return
	}
	g.lastWarn[key] = now
	g.warnMu.Unlock()
	g.log.Warnf(format, args...)
}
