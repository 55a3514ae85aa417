package sim

import (
	"math"
	"testing"
)

// episodes is the number of seeded episodes per family in the success
// rate tests.
const episodes = 200

// successRate plays episodes episodes of task with p and returns the
// success rate and the mean length of the successful ones.
func successRate(tb testing.TB, cfg Config, p Policy, task TaskKind) (rate, meanSteps float64, maxSteps int) {
	tb.Helper()
	env := mustNew(tb, cfg)
	ok, steps := 0, 0
	for seed := range uint64(episodes) {
		r := Run(env, p, seed, task)
		if r.Success {
			ok++
			steps += r.Steps
			maxSteps = max(maxSteps, r.Steps)
		}
	}
	return float64(ok) / episodes, float64(steps) / float64(max(ok, 1)), maxSteps
}

func TestExpertSuccess(t *testing.T) {
	for _, noise := range []float64{0, 0.1, 0.2} {
		for _, task := range AllTasks {
			rate, mean, longest := successRate(t, Config{SkipRender: true, ExpertNoise: noise}, ExpertPolicy{}, task)
			t.Logf("noise %.1f %-5v success %5.1f%%  mean %5.1f steps  longest %3d of %d", noise, task, 100*rate, mean, longest, task.MaxSteps())
			if rate < 0.95 {
				t.Errorf("noise %.1f %v: expert success %.1f%%, want >= 95%%", noise, task, 100*rate)
			}
		}
	}
}

func TestExpertSuccessRendered(t *testing.T) {
	// Rendering must not change the dynamics: a few rendered episodes.
	env := mustNew(t, Config{ExpertNoise: 0.1})
	for _, task := range AllTasks {
		for seed := range uint64(3) {
			if r := Run(env, ExpertPolicy{}, seed, task); !r.Success {
				t.Fatalf("%v seed %d: expert failed with rendering: %+v", task, seed, r)
			}
		}
	}
}

func TestBaselinesFail(t *testing.T) {
	policies := []struct {
		name string
		p    Policy
	}{
		{name: "noop", p: NoopPolicy{}},
		{name: "random", p: NewRandomPolicy(7)},
	}
	for _, pc := range policies {
		for _, task := range AllTasks {
			rate, _, _ := successRate(t, Config{SkipRender: true}, pc.p, task)
			t.Logf("%-6s %-5v success %4.1f%%", pc.name, task, 100*rate)
			if rate > 0.03 {
				t.Errorf("%s policy solves %v %.1f%% of the time, want <= 3%%", pc.name, task, 100*rate)
			}
		}
	}
}

// TestExpertDifficultyVaries checks that every family mixes free-space
// phases with large actions and near-contact phases with small, precise
// ones, the contrast an early-exit policy exploits.
func TestExpertDifficultyVaries(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true})
	for _, task := range AllTasks {
		t.Run(task.String(), func(t *testing.T) {
			var free, near, nFree, nNear float64
			for seed := range uint64(20) {
				env.Reset(seed, task)
				for {
					a, p := env.ExpertStep()
					m := 0.0
					for _, k := range [4]int{AxisX, AxisY, AxisZ, AxisYaw} {
						m = math.Max(m, math.Abs(float64(a.Pose[k])))
					}
					if p.NearContact() {
						near, nNear = near+m, nNear+1
					} else {
						free, nFree = free+m, nFree+1
					}
					if _, info := env.Step(a); info.Done {
						break
					}
				}
			}
			if nFree == 0 || nNear == 0 {
				t.Fatalf("free-space steps %v, near-contact steps %v: want both", nFree, nNear)
			}
			t.Logf("%.0f%% of steps near contact; mean largest action %.2f free, %.2f near contact", 100*nNear/(nFree+nNear), free/nFree, near/nNear)
			if free/nFree < 1.5*near/nNear {
				t.Fatalf("free-space actions (%.2f) not clearly larger than near-contact ones (%.2f)", free/nFree, near/nNear)
			}
		})
	}
}

func TestExpertNoiseVariesDemonstrations(t *testing.T) {
	play := func(noise float64) State {
		env := mustNew(t, Config{SkipRender: true, ExpertNoise: noise})
		env.Reset(11, TaskPick)
		for range 10 {
			env.Step(env.Expert())
		}
		return env.State()
	}
	if play(0) == play(0.1) {
		t.Fatal("expert noise did not change the trajectory")
	}
	if play(0.1) != play(0.1) {
		t.Fatal("expert noise is not deterministic")
	}
}

func TestTaskKindString(t *testing.T) {
	tests := []struct {
		name string
		k    TaskKind
		want string
	}{
		{name: "reach", k: TaskReach, want: "reach"},
		{name: "push", k: TaskPush, want: "push"},
		{name: "pick", k: TaskPick, want: "pick"},
		{name: "place", k: TaskPlace, want: "place"},
		{name: "unset", k: 0, want: "TaskKind(0)"},
		{name: "random", k: RandomTask, want: "TaskKind(-1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.k.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
