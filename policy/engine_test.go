package policy_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// scripted builds an engine over the scripted backend with 4 exits whose
// features are exit*step-free constants: exit i's candidate pose is
// feature_i + committed state, so distances are set by the features.
func scripted(t *testing.T, s policy.Settings, feature func(step, exit int) [policytest.FeatureDim]float32) (*policy.Engine, *policytest.Backend) {
	t.Helper()
	m := policytest.WriteModel(t, 4)
	be := policytest.NewBackend(m)
	be.Feature = feature
	e, err := policy.New(policy.Config{Manifest: m, Backend: be, Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, be
}

// ladder gives exit i the feature value level[i] in every dimension.
func ladder(level ...float32) func(step, exit int) [policytest.FeatureDim]float32 {
	return func(step, exit int) (f [policytest.FeatureDim]float32) {
		for i := range f {
			f[i] = level[exit]
		}
		return f
	}
}

func obs(instruction string) *policy.Observation {
	return &policy.Observation{Static: policytest.Image(10), Instruction: instruction}
}

func step(t *testing.T, e *policy.Engine, o *policy.Observation) policy.StepResult {
	t.Helper()
	r, err := e.Step(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The rule of deer-method.md, "Exit criterion": stop at the first exit
// whose candidate is within its threshold of the previous candidate.
func TestExitRule(t *testing.T) {
	// Candidates 0, 1, 1.5, 1.6, 1.6: rms distances 1, 0.5, 0.1, 0.
	f := ladder(0, 1, 1.5, 1.6, 1.6)
	tests := []struct {
		name       string
		thresholds []float64
		wexit      int
		wdist      []float64
	}{
		{"first exit stable", []float64{1, 0, 0, 0}, 1, []float64{1}},
		{"third exit stable", []float64{0.9, 0.4, 0.11, 0}, 3, []float64{1, 0.5, 0.1}},
		{"none stable runs to the last", []float64{-1, -1, -1, -1}, 4, []float64{1, 0.5, 0.1, 0}},
		{"all exit at 1", []float64{math.Inf(1), 0, 0, 0}, 1, []float64{1}},
		{"last threshold ignored", []float64{0, 0, 0, -5}, 4, []float64{1, 0.5, 0.1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := scripted(t, policy.Settings{Thresholds: tc.thresholds}, f)
			r := step(t, e, obs("move to the red block"))
			if r.Exit != tc.wexit {
				t.Fatalf("exit %d, want %d", r.Exit, tc.wexit)
			}
			got := r.Distances[:r.NumDistances]
			if len(got) != len(tc.wdist) {
				t.Fatalf("distances %v, want %v", got, tc.wdist)
			}
			for i := range got {
				if math.Abs(got[i]-tc.wdist[i]) > 1e-6 {
					t.Fatalf("distances %v, want %v", got, tc.wdist)
				}
			}
			if r.GFLOPs != float64(tc.wexit) {
				t.Errorf("GFLOPs %v, want %d", r.GFLOPs, tc.wexit)
			}
		})
	}
}

// Only the chosen exit's recurrent state is committed; candidates are
// evaluated with the committed state of the previous step.
func TestCommitsOnlyChosenExitState(t *testing.T) {
	e, be := scripted(t, policy.Settings{Thresholds: []float64{-1, 0.6, -1, -1}}, ladder(0, 1, 1.5, 1.6, 1.6))
	r := step(t, e, obs("move to the red block"))
	if r.Exit != 2 {
		t.Fatalf("exit %d, want 2", r.Exit)
	}
	if got := be.Float32("state_in")[0]; got != 1.5 {
		t.Fatalf("committed state %v, want exit 2's 1.5", got)
	}
	// Next step: candidates are feature + 1.5, so the pose is 3.
	r = step(t, e, obs("move to the red block"))
	if r.Action.Pose[0] != 3 || r.Action.Pose[3] != 6 { // pose_scale doubles the angles
		t.Fatalf("pose %v, want 3 (x) and 6 (roll, scaled)", r.Action.Pose)
	}
}

func TestNaNOutputFailsStepAndKeepsState(t *testing.T) {
	e, be := scripted(t, policy.Settings{}, ladder(0, 1, 2, 3, 4))
	step(t, e, obs("move to the red block"))
	before := slices.Clone(be.Float32("state_in"))
	be.NaNAtExit = 3
	_, err := e.Step(obs("move to the red block"))
	var se *policy.StepError
	if !errors.As(err, &se) || se.Stage != "exit 3" {
		t.Fatalf("error %v, want a StepError at exit 3", err)
	}
	if got := be.Float32("state_in"); !slices.Equal(got, before) {
		t.Fatalf("state changed to %v after a failed step, want %v", got, before)
	}
	be.NaNAtExit = 0
	step(t, e, obs("move to the red block"))
}

func TestNewInstructionAndResetClearState(t *testing.T) {
	e, be := scripted(t, policy.Settings{}, ladder(0, 1, 2, 3, 4))
	if r := step(t, e, obs("move to the red block")); !r.Reset {
		t.Fatal("first step did not start an episode")
	}
	if r := step(t, e, obs("move to the red block")); r.Reset || be.Float32("state_in")[0] != 8 {
		t.Fatalf("same instruction: reset %v, state %v (want no reset, 4+4)", r.Reset, be.Float32("state_in")[0])
	}
	if r := step(t, e, obs("move to the blue block")); !r.Reset || r.Action.Pose[0] != 4 {
		t.Fatalf("new instruction: reset %v, pose %v (want reset, 4 from zero state)", r.Reset, r.Action.Pose[0])
	}
	e.Reset()
	if r := step(t, e, obs("move to the blue block")); !r.Reset || r.Action.Pose[0] != 4 {
		t.Fatalf("after Reset: reset %v, pose %v (want reset, 4 from zero state)", r.Reset, r.Action.Pose[0])
	}
}

// The instruction is tokenised once per episode, not every step.
func TestTokensCachedUntilInstructionChanges(t *testing.T) {
	e, be := scripted(t, policy.Settings{}, nil)
	step(t, e, obs("move to the red block"))
	tokens := be.Int64("tokens")
	if want := []int64{2, 3, 4, 5}; !slices.Equal(tokens, want) {
		t.Fatalf("tokens %v, want %v", tokens, want)
	}
	tokens[0] = 99 // a re-tokenisation would overwrite this
	step(t, e, obs("move to the red block"))
	if tokens[0] != 99 {
		t.Fatal("the same instruction was tokenised again")
	}
}

func TestHoldSteps(t *testing.T) {
	e, be := scripted(t, policy.Settings{Thresholds: []float64{-1, 0.6, -1, -1}, HoldSteps: 2}, ladder(0, 1, 1.5, 1.6, 1.6))
	var exits []int
	var held []bool
	for range 4 {
		be.ClearRuns()
		r := step(t, e, obs("move to the red block"))
		exits, held = append(exits, r.Exit), append(held, r.Held)
		if r.Held {
			// Encoder, blocks 1..2 and one head evaluation.
			if want := []int{0, 1, 2, 5}; !slices.Equal(be.Runs, want) {
				t.Fatalf("held step ran stages %v, want %v", be.Runs, want)
			}
			if r.NumDistances != 0 {
				t.Fatalf("held step has %d distances", r.NumDistances)
			}
		}
	}
	if !slices.Equal(held, []bool{false, true, true, false}) || !slices.Equal(exits, []int{2, 2, 2, 2}) {
		t.Fatalf("exits %v held %v, want 2 decided, 2 held, then decided again", exits, held)
	}
	// A new instruction cancels the hold.
	step(t, e, obs("move to the red block"))
	if r := step(t, e, obs("move to the blue block")); r.Held {
		t.Fatal("a new instruction kept the hold")
	}
}

func TestAverageLastTwo(t *testing.T) {
	e, _ := scripted(t, policy.Settings{Thresholds: []float64{-1, 0.6, -1, -1}, AverageLastTwo: true}, ladder(0, 1, 1.5, 1.6, 1.6))
	r := step(t, e, obs("move to the red block"))
	if r.Exit != 2 || r.Action.Pose[0] != 1.25 {
		t.Fatalf("exit %d pose %v, want exit 2 and the mean of 1 and 1.5", r.Exit, r.Action.Pose[0])
	}
}

func TestGripperThreshold(t *testing.T) {
	e, be := scripted(t, policy.Settings{}, nil)
	for _, tc := range []struct {
		prob, want float32
	}{{0.75, 1}, {0.5, -1}, {0.2, -1}} {
		be.Gripper = tc.prob
		r := step(t, e, obs("move to the red block"))
		if r.Action.Gripper != tc.want || r.Action.GripperProb != tc.prob {
			t.Errorf("probability %v gave gripper %v, want %v", tc.prob, r.Action.Gripper, tc.want)
		}
	}
}

func TestBadInputFailsClearly(t *testing.T) {
	e, _ := scripted(t, policy.Settings{}, nil)
	good := policytest.Image(1)
	tests := []struct {
		name string
		obs  *policy.Observation
	}{
		{"nil observation", nil},
		{"no static image", &policy.Observation{Instruction: "move"}},
		{"wrong size", &policy.Observation{Static: &policy.Image{Width: 5, Height: 4, Encoding: "rgb8", Data: make([]byte, 60)}, Instruction: "move"}},
		{"short data", &policy.Observation{Static: &policy.Image{Width: 4, Height: 4, Encoding: "rgb8", Data: make([]byte, 47)}, Instruction: "move"}},
		{"unknown encoding", &policy.Observation{Static: &policy.Image{Width: 4, Height: 4, Encoding: "yuv422", Data: make([]byte, 48)}, Instruction: "move"}},
		{"step too short", &policy.Observation{Static: &policy.Image{Width: 4, Height: 4, Step: 8, Encoding: "rgb8", Data: make([]byte, 48)}, Instruction: "move"}},
		{"empty instruction", &policy.Observation{Static: good, Instruction: " ,. "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Step(tc.obs)
			var se *policy.StepError
			if !errors.As(err, &se) || se.Stage != "input" {
				t.Fatalf("error %v, want an input StepError", err)
			}
			t.Log(err)
		})
	}
	if _, err := e.Step(obs(" ")); !errors.Is(err, policy.ErrEmptyInstruction) {
		t.Fatalf("error %v, want ErrEmptyInstruction", err)
	}
	step(t, e, obs("move to the red block")) // the engine still works
}

func TestInvalidSettingsKeepTheOldOnes(t *testing.T) {
	e, _ := scripted(t, policy.Settings{Thresholds: []float64{1, 1, 1, 1}}, nil)
	old := e.Plan()
	bad := []struct {
		name string
		s    policy.Settings
	}{
		{"negative budget", policy.Settings{Budget: policy.Budget{PeakGFLOPs: -1}}},
		{"NaN budget", policy.Settings{Budget: policy.Budget{AvgGFLOPs: math.NaN()}}},
		{"peak below exit 1", policy.Settings{Budget: policy.Budget{PeakGFLOPs: 0.5}}},
		{"memory below exit 1", policy.Settings{Budget: policy.Budget{MemoryMB: 2.5}}},
		{"threshold count", policy.Settings{Thresholds: []float64{1, 1}}},
		{"NaN threshold", policy.Settings{Thresholds: []float64{1, math.NaN(), 1, 1}}},
		{"average without calibration", policy.Settings{Budget: policy.Budget{AvgGFLOPs: 2}}},
		{"hold steps", policy.Settings{HoldSteps: -1}},
		{"negative budget window", policy.Settings{BudgetWindow: -1}},
		{"budget window too long", policy.Settings{BudgetWindow: policy.MaxBudgetWindow + 1}},
		{"metric", policy.Settings{Metric: 9}},
	}
	for _, tc := range bad {
		if _, err := e.SetSettings(tc.s); err == nil {
			t.Errorf("%s: accepted", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
		if e.Plan() != old {
			t.Fatalf("%s: the plan changed", tc.name)
		}
	}
	if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{PeakGFLOPs: 0.5}}); !errors.Is(err, policy.ErrBudgetInfeasible) {
		t.Fatalf("peak below exit 1: %v, want ErrBudgetInfeasible", err)
	}
}

// Lowering the cap frees deeper sessions before SetSettings returns;
// raising it loads them in the background while steps go on at the old
// depth.
func TestCapReleasesAndReloadsWithoutStalling(t *testing.T) {
	e, be := scripted(t, policy.Settings{}, nil)
	step(t, e, obs("move to the red block"))
	if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{PeakGFLOPs: 2}}); err != nil {
		t.Fatal(err)
	}
	if be.Loaded(3) || be.Loaded(4) || !be.Loaded(2) {
		t.Fatal("blocks 3 and 4 still loaded under a 2-exit cap")
	}
	if r := step(t, e, obs("move to the red block")); r.Exit != 2 || r.MaxExit != 2 {
		t.Fatalf("exit %d of %d, want 2 of 2", r.Exit, r.MaxExit)
	}
	// Memory: 1 MB encoder + 1 MB head + 3 MB blocks fits 5.5 MB.
	gate := make(chan struct{})
	be.LoadGate = gate
	if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{MemoryMB: 5.5}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan policy.StepResult)
	go func() { r, _ := e.Step(obs("move to the red block")); done <- r }()
	select {
	case r := <-done:
		if r.MaxExit != 2 {
			t.Fatalf("while loading: max exit %d, want the old 2", r.MaxExit)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a step stalled while a block was loading")
	}
	close(gate)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, err := e.LoadedExits(); err != nil {
			t.Fatal(err)
		} else if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("block 3 never loaded")
		}
		time.Sleep(time.Millisecond)
	}
	if r := step(t, e, obs("move to the red block")); r.MaxExit != 3 || r.Exit != 3 {
		t.Fatalf("after loading: exit %d of %d, want 3 of 3", r.Exit, r.MaxExit)
	}
	if be.Loaded(4) {
		t.Fatal("block 4 loaded beyond the memory cap")
	}
}

func TestCloseClosesBackend(t *testing.T) {
	m := policytest.WriteModel(t, 2)
	be := policytest.NewBackend(m)
	e, err := policy.New(policy.Config{Manifest: m, Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil || !be.Closed() {
		t.Fatalf("close: %v, backend closed %v", err, be.Closed())
	}
	if _, err := e.Step(obs("move")); !errors.Is(err, policy.ErrClosed) {
		t.Fatalf("step after close: %v", err)
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	e, be := scripted(t, policy.Settings{Thresholds: []float64{0.9, 0.4, 0.1, 0}}, ladder(0, 1, 1.5, 1.6, 1.6))
	o := obs("move to the red block")
	step(t, e, o)
	allocs := testing.AllocsPerRun(100, func() {
		be.ClearRuns()
		if _, err := e.Step(o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per step, want 0", allocs)
	}
}
