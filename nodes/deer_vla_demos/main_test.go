package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/nodes/internal/simloop"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/sim"
)

func TestRecordDeterministicAndReadable(t *testing.T) {
	o := options{Episodes: 3, Seed: 7, Tasks: sim.AllTasks[:], Noise: 0.05, PeriodNanos: 1e8}
	var files [2][]byte
	var st stats
	for i := range files {
		dir := filepath.Join(t.TempDir(), "demo")
		var err error
		if st, err = record(dir, o); err != nil {
			t.Fatal(err)
		}
		if files[i], err = os.ReadFile(filepath.Join(dir, "demo_0.mcap")); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			checkBag(t, dir, st)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("two recordings with the same options differ")
	}
}

// checkBag reads the bag back: an instruction first in every episode, and
// per step both images and the action with the step's stamp as log time.
func checkBag(t *testing.T, dir string, st stats) {
	counts := map[string]int{}
	last := ""
	eachMessage(t, dir, nil, func(m *bag.Message) {
		counts[m.Topic]++
		switch m.Topic {
		case TopicStatic, TopicGripper:
			var im msgs.Image
			if err := im.UnmarshalCDR(m.Data); err != nil {
				t.Fatal(err)
			}
			if im.Header.Stamp.Nanos() != m.LogTimeNanos || im.Encoding != "rgb8" {
				t.Fatalf("%s: stamp %d, log time %d, encoding %s", m.Topic, im.Header.Stamp.Nanos(), m.LogTimeNanos, im.Encoding)
			}
		case TopicAction:
			var a msgs.Action
			if err := a.UnmarshalCDR(m.Data); err != nil {
				t.Fatal(err)
			}
			if a.Header.Stamp.Nanos() != m.LogTimeNanos || a.ExitIndex != 0 {
				t.Fatalf("action: stamp %d, log time %d, exit %d", a.Header.Stamp.Nanos(), m.LogTimeNanos, a.ExitIndex)
			}
		case TopicInstruction:
			if last == TopicStatic {
				t.Fatal("an instruction between a step's images")
			}
		}
		last = m.Topic
	})
	if counts[TopicInstruction] != st.Episodes || counts[TopicStatic] != st.Steps ||
		counts[TopicGripper] != st.Steps || counts[TopicAction] != st.Steps {
		t.Fatalf("counts %v for %+v", counts, st)
	}
}

func TestRecordState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	st, err := record(dir, options{Episodes: 2, Seed: 3, Tasks: []sim.TaskKind{sim.TaskPlace}, PeriodNanos: 1e8, State: true})
	if err != nil {
		t.Fatal(err)
	}
	checkBag(t, dir, st)
	n := 0
	eachMessage(t, dir, []string{TopicState}, func(m *bag.Message) {
		var s msgs.String
		if err := s.UnmarshalCDR(m.Data); err != nil {
			t.Fatal(err)
		}
		var js simState
		if err := json.Unmarshal([]byte(s.Data), &js); err != nil {
			t.Fatal(err)
		}
		if js.Task != int(sim.TaskPlace) || js.Bin == 0 || len(js.Blocks) < 3 || js.Target >= len(js.Blocks) {
			t.Fatalf("state %s", s.Data)
		}
		n++
	})
	if n != st.Steps {
		t.Fatalf("%d states for %d steps", n, st.Steps)
	}
}

// TestRecordPolicy drives the sim with the shipped model: every recorded
// action must be the expert's label for the state the model reached, and
// the trajectory must be the model's own (re-simulated here step by step).
// With Beta 1 the expert always acts, so the bag equals a plain recording.
func TestRecordPolicy(t *testing.T) {
	root := simloop.RepoRoot()
	lib := simloop.LibraryUnder(root)
	model := filepath.Join(root, "models", "deer_tiny")
	open := func() *policy.Engine {
		e, err := simloop.OpenEngine(model, lib, 1, policy.Settings{}, nil)
		if err != nil {
			t.Fatalf("%v (run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH)", err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	o := options{Episodes: 2, Seed: 11, Tasks: []sim.TaskKind{sim.TaskPick}, PeriodNanos: 1e8, Policy: open()}
	dir := filepath.Join(t.TempDir(), "onpolicy")
	st, err := record(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	checkBag(t, dir, st)
	actions := readActions(t, dir)
	if len(actions) != st.Steps {
		t.Fatalf("%d actions for %d steps", len(actions), st.Steps)
	}

	env, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := open()
	k, differs := 0, false
	for ep := range o.Episodes {
		obs := env.Reset(o.Seed+uint64(ep), sim.TaskPick)
		e.Reset()
		for info := (sim.StepInfo{}); !info.Done; k++ {
			label := env.Expert()
			if actions[k].PoseDelta != label.Pose || actions[k].Gripper != label.Gripper {
				t.Fatalf("step %d: recorded %v %v, expert label %v", k, actions[k].PoseDelta, actions[k].Gripper, label)
			}
			r, err := e.Step(simloop.Observation(&obs))
			if err != nil {
				t.Fatal(err)
			}
			differs = differs || simloop.Action(r.Action) != label
			obs, info = env.Step(simloop.Action(r.Action))
		}
	}
	if k != st.Steps || !differs {
		t.Fatalf("re-simulated %d of %d steps; model ever differed from the expert: %v", k, st.Steps, differs)
	}

	// Beta 1: the expert acts at every step, as without a policy.
	var files [2][]byte
	for i, p := range []*policy.Engine{nil, open()} {
		o := options{Episodes: 1, Seed: 11, Tasks: []sim.TaskKind{sim.TaskReach}, PeriodNanos: 1e8, Policy: p, Beta: 1}
		d := filepath.Join(t.TempDir(), "beta1")
		if _, err := record(d, o); err != nil {
			t.Fatal(err)
		}
		if files[i], err = os.ReadFile(filepath.Join(d, "beta1_0.mcap")); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("with -beta 1 the recording differs from the expert's")
	}
}

// readActions returns the bag's expert actions in order.
func readActions(t *testing.T, dir string) []msgs.Action {
	var out []msgs.Action
	eachMessage(t, dir, []string{TopicAction}, func(m *bag.Message) {
		var a msgs.Action
		if err := a.UnmarshalCDR(m.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	})
	return out
}

// eachMessage calls fn with every message of the bag in dir, in order,
// only those of topics when it is not empty.
func eachMessage(t *testing.T, dir string, topics []string, fn func(m *bag.Message)) {
	t.Helper()
	var opts []bag.Option
	if len(topics) > 0 {
		opts = append(opts, bag.WithTopics(topics...))
	}
	r, err := bag.Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var m bag.Message
	for {
		err := r.Next(&m)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(&m)
	}
}

// TestTruncate checks -exit: the engine then stops at that exit on every
// step, and exits outside the model are refused.
func TestTruncate(t *testing.T) {
	root := simloop.RepoRoot()
	e, err := simloop.OpenEngine(filepath.Join(root, "models", "deer_tiny"), simloop.LibraryUnder(root), 1, policy.Settings{}, nil)
	if err != nil {
		t.Fatalf("%v (run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH)", err)
	}
	defer e.Close()
	n := len(e.Manifest().Exits)
	for _, bad := range []int{-1, n + 1} {
		if err := truncate(e, bad); err == nil {
			t.Errorf("truncate(%d) of a %d-exit model: no error", bad, n)
		}
	}
	if err := truncate(e, 0); err != nil || e.Plan().MaxExit != n {
		t.Fatalf("truncate(0): %v, max exit %d, want full depth %d", err, e.Plan().MaxExit, n)
	}
	env, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Deepest first: a deeper cap than before would load its blocks in the
	// background and run shallower meanwhile.
	for _, exit := range []int{2, 1} {
		if err := truncate(e, exit); err != nil {
			t.Fatal(err)
		}
		obs := env.Reset(11, sim.TaskPick)
		for range 5 {
			r, err := e.Step(simloop.Observation(&obs))
			if err != nil {
				t.Fatal(err)
			}
			if r.Exit != exit {
				t.Fatalf("truncated at exit %d, step took exit %d", exit, r.Exit)
			}
			obs, _ = env.Step(simloop.Action(r.Action))
		}
	}
}

// TestRunDeeR checks -budget: the engine then runs DeeR with the node's
// default metric and window, and over a few episodes of its own it spends
// about its budget on more than one exit; values outside (0, 1] are
// refused and 0 leaves full depth.
func TestRunDeeR(t *testing.T) {
	root := simloop.RepoRoot()
	model := filepath.Join(root, "models", "deer_tiny")
	cals, err := policy.ReadModelCalibrations(model)
	if err != nil {
		t.Fatal(err)
	}
	e, err := simloop.OpenEngine(model, simloop.LibraryUnder(root), 1, policy.Settings{}, cals)
	if err != nil {
		t.Fatalf("%v (run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH)", err)
	}
	defer e.Close()
	for _, bad := range []float64{-0.2, 1.5, math.NaN()} {
		if err := runDeeR(e, bad); err == nil {
			t.Errorf("runDeeR(%g): no error", bad)
		}
	}
	if err := runDeeR(e, 0); err != nil || !math.IsNaN(e.Plan().LogQ) {
		t.Fatalf("runDeeR(0): %v, log q %g, want no average budget", err, e.Plan().LogQ)
	}
	const frac = 0.25
	if err := runDeeR(e, frac); err != nil {
		t.Fatal(err)
	}
	p := e.Plan()
	exits := e.Manifest().Exits
	full := exits[len(exits)-1].GFLOPs
	defaults := control.DefaultParams()
	if p.Metric.String() != defaults.Str(control.ParamMetric) || p.BudgetWindow != int(defaults.Int(control.ParamBudgetWindow)) ||
		math.Abs(p.Budget.AvgGFLOPs-frac*full) > 1e-12 {
		t.Fatalf("plan %+v: want metric %s, window %d, average %g GFLOPs", p.Settings,
			defaults.Str(control.ParamMetric), defaults.Int(control.ParamBudgetWindow), frac*full)
	}
	env, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	used := map[int]bool{}
	spent, steps := 0.0, 0
	for ep, task := range sim.AllTasks {
		obs := env.Reset(uint64(21+ep), task)
		e.Reset()
		for info := (sim.StepInfo{}); !info.Done; steps++ {
			r, err := e.Step(simloop.Observation(&obs))
			if err != nil {
				t.Fatal(err)
			}
			used[r.Exit] = true
			spent += r.GFLOPs
			obs, info = env.Step(simloop.Action(r.Action))
		}
	}
	if avg := spent / float64(steps) / full; len(used) < 2 || avg > 1.5*frac {
		t.Fatalf("over %d steps DeeR used exits %v at %.3f of full depth's GFLOPs, want several exits near %g", steps, used, avg, frac)
	}
}
