package replay_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/ort"
	"github.com/deervla/deer_vla/policy/policytest"
	"github.com/deervla/deer_vla/replay"
)

// slowBackend makes stages take scripted times on a manual clock, the
// engine's, so that a deadline cut does not depend on the machine's load.
type slowBackend struct {
	policy.Backend
	clock *policytest.Clock
	took  map[int]time.Duration
}

func (b *slowBackend) Run(stage int) error {
	b.clock.Advance(b.took[stage])
	return b.Backend.Run(stage)
}

// replayDeadline replays the sample bag on the shipped model with stage
// times took and control.deadline_ms 50, and returns the report and one
// line per action (exit, cut flag, action).
func replayDeadline(t *testing.T, took map[int]time.Duration, overrides map[string]control.Value) (*replay.Report, []string) {
	t.Helper()
	p, env := shippedParams(t, overrides)
	m, err := policy.LoadManifest(p.Str(control.ParamModelPath))
	if err != nil {
		t.Fatal(err)
	}
	be, err := ort.Open(m, ort.Config{Library: env.Library(p), IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	clock := policytest.NewClock()
	eng, err := policy.New(policy.Config{Manifest: m, Backend: &slowBackend{be, clock, took}, Settings: p.Settings(), Clock: clock.Now})
	var lines []string
	rep := replayOn(t, eng, err, p, "test/bags/sample_demo", func(o *control.Output) {
		lines = append(lines, fmt.Sprintf("%d %v %v %v", o.Action.ExitIndex, o.Stats.DeadlineCut, o.Action.PoseDelta, o.Action.GripperProbability))
	})
	return rep, lines
}

// Under a slow block 3 and a 50 ms deadline, every step ends at exit 3,
// flagged, with exactly the actions of a run whose peak budget stops at
// exit 3: each evaluated exit's action is a valid DeeR candidate and its
// state is what is committed.
func TestReplayDeadlineCutsAtDeepestEvaluatedExit(t *testing.T) {
	ms := time.Millisecond
	took := map[int]time.Duration{0: 10 * ms, 1: 5 * ms, 2: 5 * ms, 3: time.Second, 4: 5 * ms, 5: 5 * ms, 6: 5 * ms}
	rep, cut := replayDeadline(t, took, map[string]control.Value{control.ParamDeadlineMs: control.Double(50)})
	if rep.Steps == 0 || rep.StepErrors != 0 || rep.ExitCounts[3] != rep.Steps {
		t.Fatalf("%d actions, %d failed, exits %v: want every step at exit 3\n%s", rep.Steps, rep.StepErrors, rep.ExitCounts, rep.Text())
	}
	m, err := policy.LoadManifest(filepath.Join(root(), "models", control.DefaultModel))
	if err != nil {
		t.Fatal(err)
	}
	_, capped := replayDeadline(t, nil, map[string]control.Value{control.ParamPeakGFLOPs: control.Double(m.Exits[2].GFLOPs)})
	if len(capped) != len(cut) {
		t.Fatalf("%d actions under the deadline, %d capped at exit 3", len(cut), len(capped))
	}
	for i := range cut {
		if want := "3 true" + capped[i][len("3 false"):]; cut[i] != want {
			t.Fatalf("action %d: %s\nwant %s", i, cut[i], want)
		}
	}
}

// Under a slow encoder no exit is reached: nothing is published, and the
// replay counts every frame over the deadline.
func TestReplayDeadlineBeforeFirstExit(t *testing.T) {
	rep, lines := replayDeadline(t, map[int]time.Duration{0: time.Second}, map[string]control.Value{control.ParamDeadlineMs: control.Double(50)})
	if rep.Steps != 0 || len(lines) != 0 || rep.StepErrors != 0 || rep.NotRun[control.OverDeadline.String()] != 198 {
		t.Fatalf("%d actions, %d failed, %d over deadline; want none, none, one per frame (198)\n%s", rep.Steps, rep.StepErrors, rep.NotRun[control.OverDeadline.String()], rep.Text())
	}
}
