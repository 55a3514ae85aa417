package ort

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
)

// BenchmarkExitWallTime measures how much of an exit's FLOP saving becomes
// wall-time saving: for each exit k it runs steps that stop at k (peak cap
// at k, no early exit) and reports, side by side in one run, the decoder
// time (blocks plus the head evaluations the exit rule needs) against full
// depth, as "time saving / FLOP saving" in percent (100: every FLOP saved is
// time saved; the paper's V100 figure is 68/81 = 84%).
//
// The tiny models are dominated by per-session overhead; for a meaningful
// figure use the wide timing variant, which is not committed: the shipped
// model's structure (tools/train/deer_tiny.py) at width 512, random weights:
//
//	/usr/bin/python3 tools/train/deer_tiny.py --untrained --width 512 --sample test/bags/sample_demo --out /tmp/wide512
//	DEER_VLA_WALLTIME_MODEL=/tmp/wide512 go test -run XXX -bench ExitWallTime ./policy/ort
func BenchmarkExitWallTime(b *testing.B) {
	m := timingModel(b)
	obs := randomObservation(m)
	n := len(m.Exits)
	decoder := make([]time.Duration, n+1) // by exit
	blocks := make([]time.Duration, n+1)
	for k := n; k >= 1; k-- {
		never := make([]float64, n)
		for i := range never {
			never[i] = -1
		}
		e := newEngine(b, m, policy.Settings{Thresholds: never, Budget: policy.Budget{PeakGFLOPs: m.Exits[k-1].GFLOPs}}, nil)
		for range 3 { // warm up
			if _, err := e.Step(obs); err != nil {
				b.Fatal(err)
			}
		}
		steps := max(b.N, 5)
		for range steps {
			r, err := e.Step(obs)
			if err != nil {
				b.Fatal(err)
			}
			if r.Exit != k {
				b.Fatalf("exit %d, want %d", r.Exit, k)
			}
			for i := 0; i < k; i++ {
				blocks[k] += r.BlockTime[i]
			}
			decoder[k] += r.HeadTime
		}
		decoder[k] += blocks[k]
		decoder[k] /= time.Duration(steps)
		blocks[k] /= time.Duration(steps)
	}
	full := m.Exits[n-1].GFLOPs
	for k := 1; k < n; k++ {
		flopSaving := 1 - m.Exits[k-1].GFLOPs/full
		b.ReportMetric(100*(1-float64(decoder[k])/float64(decoder[n]))/flopSaving, "pct-time/flop-saving-exit"+string(rune('0'+k)))
	}
	// A model may run its first decoder layer inside the encoder stage (for
	// the reference feature) and count it with exit 1, as deer_tiny does:
	// then the FLOPs cover a layer the timed blocks leave out. Estimate its
	// time at the deeper blocks' measured time per GFLOP and add it to both
	// sides; near zero (noise, floored at 0) when exit 1's cost is block 1's own.
	exit1Saving := 1 - m.Exits[0].GFLOPs/full
	perGFLOP := float64(blocks[n]-blocks[1]) / (full - m.Exits[0].GFLOPs)
	untimed := max(0, m.Exits[0].GFLOPs*perGFLOP-float64(blocks[1]))
	b.ReportMetric(100*(1-(float64(decoder[1])+untimed)/(float64(decoder[n])+untimed))/exit1Saving,
		"pct-time/flop-saving-exit1-with-encoder-layer")
	b.ReportMetric(float64(decoder[n].Microseconds())/1e3, "ms-decoder-full")
	b.ReportMetric(float64(decoder[1].Microseconds())/1e3, "ms-decoder-exit1")
	b.ReportMetric(100*(1-float64(blocks[1])/float64(blocks[n]))/exit1Saving, "pct-blocks-only-exit1")
}

// timingModel loads $DEER_VLA_WALLTIME_MODEL (the wide timing variant),
// or the tiny test model.
func timingModel(b *testing.B) *policy.Manifest {
	dir := os.Getenv("DEER_VLA_WALLTIME_MODEL")
	if dir == "" {
		dir = tinyDir(b)
	}
	m, err := policy.LoadManifest(dir)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// randomObservation makes images of each camera's size and an instruction.
func randomObservation(m *policy.Manifest) *policy.Observation {
	rng := rand.New(rand.NewPCG(1, 2))
	o := &policy.Observation{Instruction: "pick up the red block"}
	for _, c := range m.Cameras {
		if c.Slot == policy.SlotGripper {
			o.Gripper = randomImage(rng, c)
		} else {
			o.Static = randomImage(rng, c)
		}
	}
	return o
}
