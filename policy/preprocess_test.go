package policy

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A frame of the tensor's size skips the sampling tables, and must give
// bit for bit what they give at scale 1, for every resize rule, channel
// order, encoding and row padding.
func TestExactSizeFastPath(t *testing.T) {
	const w, h = 7, 5
	rng := rand.New(rand.NewPCG(5, 6))
	for _, resize := range []string{ResizeBilinear, ResizeNearest, ResizeExact} {
		for _, channels := range []string{"rgb", "bgr", "gray"} {
			spec := CameraSpec{Slot: SlotStatic, Width: w, Height: h, Channels: channels, Resize: resize,
				Mean: []float32{0.48, 0.46, 0.41}, Std: []float32{0.27, 0.26, 0.28}}
			planes := 3
			if channels == "gray" {
				spec.Mean, spec.Std, planes = spec.Mean[:1], spec.Std[:1], 1
			}
			for _, enc := range []string{"rgb8", "bgr8", "rgba8", "bgra8", "mono8"} {
				_, _, _, size, _ := pixelLayout(enc)
				im := &Image{Width: w, Height: h, Step: w*size + 3, Encoding: enc, Data: make([]byte, (w*size+3)*h)}
				for i := range im.Data {
					im.Data[i] = byte(rng.IntN(256))
				}
				fast, slow := make([]float32, planes*w*h), make([]float32, planes*w*h)
				if err := newPreprocessor(spec, fast).load(im); err != nil {
					t.Fatal(err)
				}
				offs, size, step, _ := im.check()
				newPreprocessor(spec, slow).resample(im, offs, size, step)
				for i := range fast {
					if math.Float32bits(fast[i]) != math.Float32bits(slow[i]) {
						t.Fatalf("%s %s from %s: element %d is %v, the sampled path gives %v", resize, channels, enc, i, fast[i], slow[i])
					}
				}
			}
		}
	}
}
