package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// clocked builds an engine over the scripted 4-exit model on a manual
// clock; stage 5 is the head.
func clocked(t *testing.T, s policy.Settings, feature func(step, exit int) [policytest.FeatureDim]float32) (*policy.Engine, *policytest.Backend, *policytest.Clock) {
	t.Helper()
	m := policytest.WriteModel(t, 4)
	be := policytest.NewBackend(m)
	be.Feature = feature
	c := policytest.NewClock()
	e, err := policy.New(policy.Config{Manifest: m, Backend: be, Settings: s, Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, be, c
}

const head = 5

func withDeadline(c *policytest.Clock, d time.Duration) *policy.Observation {
	o := obs("move to the red block")
	o.Deadline = c.Now().Add(d)
	return o
}

// Past the deadline, a step ends at the deepest exit evaluated and
// commits that exit's state: block 2 is slow, so exit 2 is the last exit
// evaluated before the 50 ms deadline.
func TestDeadlineEndsAtDeepestEvaluatedExit(t *testing.T) {
	e, be, c := clocked(t, policy.Settings{}, ladder(0, 1, 2, 3, 4))
	ms := time.Millisecond
	be.BeforeRun = policytest.SlowStages(c, map[int]time.Duration{0: 10 * ms, 1: 10 * ms, 2: 100 * ms, 3: 10 * ms, 4: 10 * ms})
	r, err := e.Step(withDeadline(c, 50*ms))
	if err != nil {
		t.Fatal(err)
	}
	if r.Exit != 2 || !r.DeadlineCut || r.NumDistances != 2 || r.GFLOPs != 2 {
		t.Fatalf("exit %d cut %v distances %d GFLOPs %v, want exit 2 cut with 2 distances and 2 GFLOPs", r.Exit, r.DeadlineCut, r.NumDistances, r.GFLOPs)
	}
	if want := []int{0, head, 1, head, 2, head}; !slices.Equal(be.Runs, want) {
		t.Fatalf("ran stages %v, want %v", be.Runs, want)
	}
	if got := be.Float32("state_in")[0]; got != 2 {
		t.Fatalf("committed state %v, want exit 2's 2", got)
	}
	if r.Action.Pose[0] != 2 || r.Total != 120*ms {
		t.Fatalf("pose %v total %v, want exit 2's 2 in 120ms", r.Action.Pose[0], r.Total)
	}
	// With time to spare the same step runs to the DeeR rule's exit.
	be.ClearRuns()
	if r := step(t, e, withDeadline(c, time.Second)); r.Exit != 4 || r.DeadlineCut {
		t.Fatalf("exit %d cut %v, want 4 uncut", r.Exit, r.DeadlineCut)
	}
}

// With no exit evaluated by the deadline, the step fails with ErrDeadline
// and commits nothing; the first step that commits is the episode's first.
func TestDeadlineBeforeFirstExitCommitsNothing(t *testing.T) {
	e, be, c := clocked(t, policy.Settings{}, ladder(0, 1, 2, 3, 4))
	ms := time.Millisecond
	for _, tc := range []struct {
		name, stage string
		deadline    time.Duration
		runs        []int
	}{
		{"slow encoder", "exit 1", 50 * ms, []int{0, head}},
		{"already late", "encoder", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be.BeforeRun = policytest.SlowStages(c, map[int]time.Duration{0: 100 * ms})
			be.ClearRuns()
			before := slices.Clone(be.Float32("state_in"))
			r, err := e.Step(withDeadline(c, tc.deadline))
			var se *policy.StepError
			if !errors.Is(err, policy.ErrDeadline) || !errors.As(err, &se) || se.Stage != tc.stage || !r.DeadlineCut || r.Exit != 0 {
				t.Fatalf("error %v, cut %v, exit %d; want ErrDeadline at %s, cut, no exit", err, r.DeadlineCut, r.Exit, tc.stage)
			}
			if !slices.Equal(be.Runs, tc.runs) {
				t.Fatalf("ran stages %v, want %v", be.Runs, tc.runs)
			}
			if got := be.Float32("state_in"); !slices.Equal(got, before) {
				t.Fatalf("state %v after a cut step, want %v", got, before)
			}
		})
	}
	be.BeforeRun = nil
	if r := step(t, e, obs("move to the red block")); !r.Reset || r.Exit != 4 {
		t.Fatalf("reset %v exit %d, want the episode's first step at exit 4", r.Reset, r.Exit)
	}
}

// A held step past its deadline evaluates the deepest block it ran.
func TestDeadlineWhileHolding(t *testing.T) {
	e, be, c := clocked(t, policy.Settings{Thresholds: []float64{-1, 0.6, -1, -1}, HoldSteps: 2}, ladder(0, 1, 1.5, 1.6, 1.6))
	if r := step(t, e, obs("move to the red block")); r.Exit != 2 {
		t.Fatalf("exit %d, want 2", r.Exit)
	}
	be.BeforeRun = policytest.SlowStages(c, map[int]time.Duration{1: time.Second})
	be.ClearRuns()
	r := step(t, e, withDeadline(c, 500*time.Millisecond))
	if r.Exit != 1 || !r.Held || !r.DeadlineCut {
		t.Fatalf("exit %d held %v cut %v, want held exit 1, cut", r.Exit, r.Held, r.DeadlineCut)
	}
	if want := []int{0, 1, head}; !slices.Equal(be.Runs, want) {
		t.Fatalf("ran stages %v, want %v", be.Runs, want)
	}
}

// A panic in any stage is the step's error, naming the stage; nothing is
// committed and the next step runs.
func TestPanicInAStageFailsTheStepOnly(t *testing.T) {
	e, be, _ := clocked(t, policy.Settings{}, ladder(0, 1, 2, 3, 4))
	step(t, e, obs("move to the red block"))
	for _, tc := range []struct {
		stage int
		want  string
	}{{0, "encoder"}, {2, "exit 2"}, {head, "head"}} {
		before := slices.Clone(be.Float32("state_in"))
		be.BeforeRun = func(stage int) {
			if stage == tc.stage {
				var v []int
				_ = v[stage] // an index out of range, as a buggy stage would
			}
		}
		_, err := e.Step(obs("move to the red block"))
		var se *policy.StepError
		if !errors.As(err, &se) || se.Stage != tc.want || !strings.Contains(err.Error(), "panic: runtime error: index out of range") ||
			!strings.Contains(err.Error(), "(at github.com/deervla/deer_vla/policy_test.TestPanicInAStageFailsTheStepOnly") {
			t.Fatalf("error %v, want a StepError at %s naming the panic and where it was raised", err, tc.want)
		}
		if got := be.Float32("state_in"); !slices.Equal(got, before) {
			t.Fatalf("state %v after a panic, want %v", got, before)
		}
		be.BeforeRun = nil
		step(t, e, obs("move to the red block"))
	}
}

// An action that is not finite after pose_scale, or a gripper output that
// is not a probability, fails the step: it is never returned clamped.
func TestActionCheckedAfterScaling(t *testing.T) {
	m := policytest.WriteModel(t, 4)
	m.Action.PoseScale[0] = 3e38 // finite, but 4 * 3e38 overflows float32
	be := policytest.NewBackend(m)
	e, err := policy.New(policy.Config{Manifest: m, Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = e.Step(obs("move to the red block"))
	var se *policy.StepError
	if !errors.As(err, &se) || se.Stage != "action" || !strings.Contains(err.Error(), "not finite after pose_scale") {
		t.Fatalf("error %v, want an action StepError", err)
	}
	m.Action.PoseScale[0] = 1
	for _, p := range []float32{1.5, -0.1} {
		be.Gripper = p
		if _, err := e.Step(obs("move to the red block")); !errors.As(err, &se) || se.Stage != "action" || !strings.Contains(err.Error(), "outside [0, 1]") {
			t.Fatalf("gripper %v: error %v, want an action StepError", p, err)
		}
	}
	be.Gripper = 1
	if r := step(t, e, obs("move to the red block")); !r.Reset || r.Action.Gripper != 1 {
		t.Fatalf("reset %v gripper %v: the first good step starts the episode", r.Reset, r.Action.Gripper)
	}
}
