package ort

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
)

// runTimer wraps the backend to add up the time spent inside ONNX Runtime.
type runTimer struct {
	*Backend
	inRun time.Duration
}

func (r *runTimer) Run(stage int) error {
	t0 := time.Now()
	err := r.Backend.Run(stage)
	r.inRun += time.Since(t0)
	return err
}

// BenchmarkStep reports the engine's own time per step, beyond its ONNX
// Runtime Run calls and measured in the same run, as a share of the step
// ("overhead-%"), and allocations per step:
//
//   - tiny_test/mixed: the golden steps through the 16x16 test model, with
//     mixed exits;
//   - deer_tiny/full and deer_tiny/exit1: the shipped model at full depth
//     and capped at exit 1 (its cheapest step, where the engine's share is
//     largest), on frames of the cameras' sizes and a new instruction every
//     10 steps.
//
// The engine's time includes the timing wrapper's clock reads, so the
// figure is an upper bound.
func BenchmarkStep(b *testing.B) {
	b.Run("tiny_test/mixed", func(b *testing.B) {
		g := loadGolden(b)
		m := loadTiny(b)
		var mixed *goldenRun
		for i := range g.Runs {
			if g.Runs[i].Name == "mixed_rms" {
				mixed = &g.Runs[i]
			}
		}
		obs := make([]*policy.Observation, len(g.Steps))
		for i := range g.Steps {
			obs[i] = g.Steps[i].observation()
		}
		benchSteps(b, m, mixed.settings(b, m), obs)
	})
	m, err := policy.LoadManifest(filepath.Join(repoRoot(b), "models", "deer_tiny"))
	if err != nil {
		b.Fatal(err)
	}
	obs := episodes(m, 2, 10)
	never := make([]float64, len(m.Exits))
	for i := range never {
		never[i] = -1
	}
	b.Run("deer_tiny/full", func(b *testing.B) {
		benchSteps(b, m, policy.Settings{Thresholds: never}, obs)
	})
	b.Run("deer_tiny/exit1", func(b *testing.B) {
		benchSteps(b, m, policy.Settings{Thresholds: never, Budget: policy.Budget{PeakGFLOPs: m.Exits[0].GFLOPs}}, obs)
	})
}

// benchSteps steps an engine on one thread through obs, round and round.
func benchSteps(b *testing.B, m *policy.Manifest, s policy.Settings, obs []*policy.Observation) {
	be, err := Open(m, Config{Library: libraryPath(b), IntraOpThreads: 1})
	if err != nil {
		b.Fatal(err)
	}
	timer := &runTimer{Backend: be}
	e, err := policy.New(policy.Config{Manifest: m, Backend: timer, Settings: s})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var gflops float64
	for i := range obs { // warm up every path
		if _, err := e.Step(obs[i]); err != nil {
			b.Fatal(err)
		}
	}
	timer.inRun = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := e.Step(obs[i%len(obs)])
		if err != nil {
			b.Fatal(err)
		}
		gflops += r.GFLOPs
	}
	b.StopTimer()
	total := b.Elapsed()
	b.ReportMetric(100*float64(total-timer.inRun)/float64(total), "overhead-%")
	b.ReportMetric(gflops/float64(b.N), "GFLOPs/step")
}

// episodes returns n episodes of steps observations each, with frames of
// the cameras' sizes (random pixels) and a different instruction per
// episode, so that stepping through them round and round starts a new
// episode every steps steps.
func episodes(m *policy.Manifest, n, steps int) []*policy.Observation {
	rng := rand.New(rand.NewPCG(3, 4))
	instructions := []string{"pick up the red block", "Push the blue block left.", "place it in the green bin"}
	var obs []*policy.Observation
	for ep := range n {
		for range steps {
			o := &policy.Observation{Instruction: instructions[ep%len(instructions)]}
			for _, c := range m.Cameras {
				im := randomImage(rng, c)
				if c.Slot == policy.SlotGripper {
					o.Gripper = im
				} else {
					o.Static = im
				}
			}
			obs = append(obs, o)
		}
	}
	return obs
}

// randomImage is an rgb8 frame of the camera's size.
func randomImage(rng *rand.Rand, c policy.CameraSpec) *policy.Image {
	data := make([]byte, c.Width*c.Height*3)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	return &policy.Image{Width: c.Width, Height: c.Height, Encoding: "rgb8", Data: data}
}
