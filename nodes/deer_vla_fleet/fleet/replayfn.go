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

// worker is what each DoFn instance keeps: the parameters and the engine,
// opened once in Setup (one per worker thread the runner gives the
// stage), never per bag. A failure to open is reported on every row.
type worker struct {
	params control.Params
	eng    *policy.Engine
	err    error
}

// open resolves s's parameters, adjusted by tune when not nil, and opens
// the engine with them.
func (w *worker) open(s Settings, tune func(control.Params) (control.Params, error)) {
	if w.params, w.err = s.Params(); w.err != nil {
		return
	}
	if tune != nil {
		if w.params, w.err = tune(w.params); w.err != nil {
			return
		}
	}
	w.eng, w.err = control.OpenEngine(w.params, control.ProcessEnvironment())
}

func (w *worker) close() {
	if w.eng != nil {
		w.eng.Close()
	}
}

// replayFn replays bags.
type replayFn struct {
	Settings Settings
	w        worker
}

func (f *replayFn) Setup()    { f.w.open(f.Settings, nil) }
func (f *replayFn) Teardown() { f.w.close() }

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
	if f.w.err != nil {
		row.Error = f.w.err.Error()
		return row
	}
	p, err := WithBudget(f.w.params, j.Budget)
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
	node, err := control.NewNode(f.w.eng, p)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	f.w.eng.Restart()
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
