package ort

import (
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

// BenchmarkStep runs the golden steps through the tiny model with mixed
// exits and reports the engine's own overhead as a share of the time spent
// in ONNX Runtime's Run calls, measured in the same run, and allocations.
func BenchmarkStep(b *testing.B) {
	g := loadGolden(b)
	m := loadTiny(b)
	be, err := Open(m, Config{Library: libraryPath(b), IntraOpThreads: 1})
	if err != nil {
		b.Fatal(err)
	}
	timer := &runTimer{Backend: be}
	var mixed *goldenRun
	for i := range g.Runs {
		if g.Runs[i].Name == "mixed_rms" {
			mixed = &g.Runs[i]
		}
	}
	e, err := policy.New(policy.Config{Manifest: m, Backend: timer, Settings: mixed.settings(b, m)})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	obs := make([]*policy.Observation, len(g.Steps))
	for i := range g.Steps {
		obs[i] = g.Steps[i].observation()
	}
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
	b.ReportMetric(100*float64(total-timer.inRun)/float64(timer.inRun), "overhead-%")
	b.ReportMetric(gflops/float64(b.N), "GFLOPs/step")
}
