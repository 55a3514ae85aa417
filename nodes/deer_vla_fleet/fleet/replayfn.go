package fleet

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/replay"
)

// replayFn replays bags. Setup opens the engine once per DoFn instance
// (one per worker thread the runner gives the stage), never per bag.
type replayFn struct {
	Settings Settings

	params control.Params
	eng    *policy.Engine
	err    error // Setup's failure, reported on every row
}

func (f *replayFn) Setup() {
	if f.params, f.err = f.Settings.Params(); f.err != nil {
		return
	}
	f.eng, f.err = control.OpenEngine(f.params, control.ProcessEnvironment())
}

func (f *replayFn) Teardown() {
	if f.eng != nil {
		f.eng.Close()
	}
}

// ProcessElement replays the jobs of one shard, one bag at a time.
func (f *replayFn) ProcessElement(ctx context.Context, shard int, jobs func(*Job) bool, emit func(Row)) {
	var j Job
	for jobs(&j) {
		emit(f.replay(ctx, j))
	}
}

func (f *replayFn) replay(ctx context.Context, j Job) (row Row) {
	start := time.Now()
	row = Row{Bag: j.Bag, Point: j.Point}
	defer func() {
		// One bad bag must not stop the fleet: a panic anywhere in its
		// replay becomes its row's error.
		if r := recover(); r != nil {
			row = Row{Bag: j.Bag, Point: j.Point, Error: fmt.Sprintf("panic: %v\n%s", r, debug.Stack())}
		}
		row.Seconds = time.Since(start).Seconds()
	}()
	if f.err != nil {
		row.Error = f.err.Error()
		return row
	}
	p, err := WithBudget(f.params, j.Budget)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	row.AvgBudget = p.Double(control.ParamAvgGFLOPs)
	local, cleanup, err := stage(ctx, j.Bag)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer cleanup()
	node, err := control.NewNode(f.eng, p)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	f.eng.Restart()
	rep, err := replay.Run(replay.Config{Bag: local, Topics: f.Settings.Topics, Params: p}, node, nil)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	row = rowOf(j, row.AvgBudget, rep)
	if err := rep.Check(); err != nil {
		row.Error = err.Error()
	}
	return row
}
