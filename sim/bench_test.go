package sim

import "testing"

// BenchmarkStep measures one rendered step of an expert episode.
func BenchmarkStep(b *testing.B) {
	env := mustNew(b, Config{})
	env.Reset(1, TaskPlace)
	b.ReportAllocs()
	for b.Loop() {
		if _, info := env.Step(env.Expert()); info.Done {
			env.Reset(1, TaskPlace)
		}
	}
}

// BenchmarkStepNoRender measures one step without cameras.
func BenchmarkStepNoRender(b *testing.B) {
	env := mustNew(b, Config{SkipRender: true})
	env.Reset(1, TaskPlace)
	b.ReportAllocs()
	for b.Loop() {
		if _, info := env.Step(env.Expert()); info.Done {
			env.Reset(1, TaskPlace)
		}
	}
}
