//go:build ros2

package ros

import (
	"context"
	"errors"
	"time"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
)

// infer is the control loop's goroutine: on every new image (control.rate_hz
// 0) or at the control rate, it runs a step and publishes its action and
// record. At the control rate each tick steps the latest image; on every
// image, images that arrived together each step (control.Loop.Backlog),
// and the newest wins when steps fall behind.
func (g *glue) infer(ctx context.Context) {
	var period time.Duration
	var ticker *time.Ticker
	var tick <-chan time.Time
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		if p := g.core.Params().Period(); p != period {
			period = p
			if ticker != nil {
				ticker.Stop()
				ticker, tick = nil, nil
			}
			if period > 0 {
				ticker = time.NewTicker(period)
				tick = ticker.C
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-g.wake:
			if period > 0 {
				continue // at a fixed rate, images only refresh the inbox
			}
		case <-tick:
		}
		g.tickOnce()
		for g.loop.Backlog() && ctx.Err() == nil {
			g.tickOnce() // images that arrived together each step
		}
	}
}

// tickOnce runs one tick, publishes what it gives and logs why nothing
// came out. It is the node's last line: a panic anywhere in it is logged
// and the loop goes on with the next input (the engine and the loop
// already recover their own).
func (g *glue) tickOnce() {
	defer func() {
		if p := recover(); p != nil {
			err := policy.PanicError("inference goroutine", p)
			g.logEvery("panic", errorLevel, "step failed: %v", err)
		}
	}()
	out, _, err := g.loop.Tick(g.clock.Now())
	if err != nil {
		stage := "step"
		var se *policy.StepError
		if errors.As(err, &se) {
			stage = se.Stage
		}
		// One throttle per failing stage: a second fault is not hidden
		// behind the first one's.
		g.logEvery("failed: "+stage, errorLevel, "step failed, no action published: %v", err)
	}
	g.logNoAction()
	if out == nil {
		return
	}
	g.actionBuf = out.Action.MarshalCDR(g.actionBuf[:0])
	if err := g.actionPub.PublishSerialized(g.actionBuf); err != nil {
		g.logEvery("publish action", errorLevel, "publish %s: %v", TopicAction, err)
	}
	g.statsBuf = out.Stats.MarshalCDR(g.statsBuf[:0])
	if err := g.statsPub.PublishSerialized(g.statsBuf); err != nil {
		g.logEvery("publish stats", warnLevel, "publish %s: %v", TopicStepStats, err)
	}
}

// logNoAction logs each reason frames ended without an action (failures
// are logged with their error), each under its own throttle, with how
// many since the last line of that reason.
func (g *glue) logNoAction() {
	c := g.loop.Counts()
	for r := control.Skip(0); int(r) < control.NumSkips; r++ {
		n := c.ByReason[r] - g.logged.ByReason[r]
		if n == 0 || r == control.Stepped || r == control.Failed {
			continue
		}
		if g.logEvery(r.String(), warnLevel, "no action for %d frame(s): %s (%s)", n, r, r.Hint()) {
			g.logged.ByReason[r] = c.ByReason[r]
		}
	}
	if n := c.DeadlineCuts - g.logged.DeadlineCuts; n > 0 {
		if g.logEvery("deadline cut", warnLevel, "%d step(s) reached control.deadline_ms and ended at an earlier exit (deadline_cut on %s)", n, TopicStepStats) {
			g.logged.DeadlineCuts = c.DeadlineCuts
		}
	}
}
