package policytest

import (
	"sync"
	"time"
)

// Clock is a manual clock for policy.Config.Clock: time moves only when a
// test advances it, so deadlines and stage times are exact whatever the
// load on the machine.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at an arbitrary fixed time.
func NewClock() *Clock { return &Clock{now: time.Unix(1_000_000, 0)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// SlowStages returns a Backend.BeforeRun that advances c by each stage's
// time in took (stages not in it take no time).
func SlowStages(c *Clock, took map[int]time.Duration) func(stage int) {
	return func(stage int) { c.Advance(took[stage]) }
}
