package control

import (
	"sync/atomic"
	"time"
)

// Clock is ROS time for the node: wall time, or under use_sim_time the
// latest /clock message (0 until the first one arrives). rclgo's timers run
// on wall time and do not follow /clock, so the node keeps this itself.
type Clock struct {
	sim    atomic.Bool
	latest atomic.Int64
	wall   func() time.Time
}

// NewClock returns a wall clock, or a simulated one fed by OnClock.
func NewClock(useSimTime bool) *Clock {
	c := &Clock{wall: time.Now}
	c.sim.Store(useSimTime)
	return c
}

// SetSim switches between wall time and /clock, as use_sim_time does live
// in rclcpp. /clock messages are taken in both modes, so a switch to sim
// time has the latest one at once.
func (c *Clock) SetSim(useSimTime bool) { c.sim.Store(useSimTime) }

// OnClock takes a /clock message's time. Time may jump back when a bag
// loops; the clock follows it.
func (c *Clock) OnClock(nanos int64) { c.latest.Store(nanos) }

// Now returns ROS time in nanoseconds.
func (c *Clock) Now() int64 {
	if c.sim.Load() {
		return c.latest.Load()
	}
	return c.wall().UnixNano()
}

// Sim reports whether the clock follows /clock.
func (c *Clock) Sim() bool { return c.sim.Load() }
