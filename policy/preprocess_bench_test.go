package policy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkPreprocess converts a frame of the shipped model's static
// camera size (64x64 rgb8, bilinear) by the exact-size path and by the
// sampling tables at scale 1, alternately in one run, and reports both
// and their ratio.
func BenchmarkPreprocess(b *testing.B) {
	const n = 64
	spec := CameraSpec{Slot: SlotStatic, Width: n, Height: n, Channels: "rgb", Resize: ResizeBilinear,
		Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	rng := rand.New(rand.NewPCG(7, 8))
	im := &Image{Width: n, Height: n, Encoding: "rgb8", Data: make([]byte, n*n*3)}
	for i := range im.Data {
		im.Data[i] = byte(rng.IntN(256))
	}
	p := newPreprocessor(spec, make([]float32, 3*n*n))
	offs, size, step, _ := im.check()
	var fast, sampled time.Duration
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := p.load(im); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		p.resample(im, offs, size, step)
		sampled += time.Since(t1)
		fast += t1.Sub(t0)
	}
	b.ReportMetric(float64(fast.Nanoseconds())/float64(b.N), "ns-exact-size")
	b.ReportMetric(float64(sampled.Nanoseconds())/float64(b.N), "ns-sampled")
	b.ReportMetric(float64(sampled)/float64(fast), "speed-up")
}
