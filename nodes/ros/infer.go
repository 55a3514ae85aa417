//go:build ros2

package ros

import (
	"context"
	"time"
)

// infer is the control loop's goroutine: on every new image (control.rate_hz
// 0) or at the control rate, it runs a step and publishes its action and
// record. Only the latest image is used; nothing queues.
func (g *glue) infer(ctx context.Context) {
	var period time.Duration
	var ticker *time.Ticker
	var tick <-chan time.Time
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	var actionBuf, statsBuf []byte
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
		out, _, err := g.loop.Tick(g.clock.Now())
		if err != nil {
			g.warnEvery("step", "step failed: %v", err)
			continue
		}
		if out == nil {
			continue
		}
		actionBuf = out.Action.MarshalCDR(actionBuf[:0])
		if err := g.actionPub.PublishSerialized(actionBuf); err != nil {
			g.warnEvery("publish", "publish %s: %v", TopicAction, err)
		}
		statsBuf = out.Stats.MarshalCDR(statsBuf[:0])
		if err := g.statsPub.PublishSerialized(statsBuf); err != nil {
			g.warnEvery("publish", "publish %s: %v", TopicStepStats, err)
		}
	}
}
