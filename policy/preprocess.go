package policy

import (
	"fmt"
	"math"
)

// preprocessor writes one camera's frames into its encoder tensor: resize,
// channel order and normalisation in one pass, without allocating.
type preprocessor struct {
	spec  CameraSpec
	scale [3]float32 // 1 / (255 * std)
	shift [3]float32 // -mean / std
	dst   []float32  // the encoder's input tensor, [1, C, H, W]

	// Source-to-tensor sampling tables, rebuilt when the frame size changes.
	srcW, srcH int
	x0, x1     []int
	y0, y1     []int
	wx, wy     []float32 // weight of x1 / y1

	clip clipTables // resize: clip only, see preprocess_clip.go
}

func newPreprocessor(spec CameraSpec, dst []float32) *preprocessor {
	p := &preprocessor{
		spec: spec, dst: dst,
		x0: make([]int, spec.Width), x1: make([]int, spec.Width), wx: make([]float32, spec.Width),
		y0: make([]int, spec.Height), y1: make([]int, spec.Height), wy: make([]float32, spec.Height),
	}
	for c := range spec.Mean {
		p.scale[c] = 1 / (255 * spec.Std[c])
		p.shift[c] = -spec.Mean[c] / spec.Std[c]
	}
	return p
}

// sampling fills one axis's tables for in source pixels and out tensor pixels.
func sampling(rule string, in, out int, i0, i1 []int, w []float32) {
	scale := float32(in) / float32(out)
	for d := 0; d < out; d++ {
		switch rule {
		case ResizeBilinear:
			// torch's area_pixel_compute_source_index with align_corners=False.
			src := scale*(float32(d)+0.5) - 0.5
			if src < 0 {
				src = 0
			}
			lo := int(src)
			hi := lo
			if lo < in-1 {
				hi = lo + 1
			}
			i0[d], i1[d], w[d] = lo, hi, src-float32(lo)
		default: // exact and nearest
			s := min(int(math.Floor(float64(float32(d)*scale))), in-1)
			i0[d], i1[d], w[d] = s, s, 0
		}
	}
}

// load converts im into the tensor. The tensor is only written once the
// frame has passed every check, so a bad frame leaves it as it was.
func (p *preprocessor) load(im *Image) error {
	offs, size, step, err := im.check()
	if err != nil {
		return err
	}
	s := p.spec
	if s.Resize == ResizeExact && (im.Width != s.Width || im.Height != s.Height) {
		return fmt.Errorf("image is %dx%d, the model wants %dx%d and does not resize (resize: exact)", im.Width, im.Height, s.Width, s.Height)
	}
	if s.Resize == ResizeCLIP {
		p.loadCLIP(im, offs, size, step)
		return nil
	}
	if im.Width != p.srcW || im.Height != p.srcH {
		sampling(s.Resize, im.Width, s.Width, p.x0, p.x1, p.wx)
		sampling(s.Resize, im.Height, s.Height, p.y0, p.y1, p.wy)
		p.srcW, p.srcH = im.Width, im.Height
	}
	var order [3]int // tensor channel -> byte offset in a pixel
	switch s.Channels {
	case "rgb":
		order = offs
	case "bgr":
		order = [3]int{offs[2], offs[1], offs[0]}
	}
	plane := s.Width * s.Height
	gray := s.Channels == "gray"
	for y := 0; y < s.Height; y++ {
		r0, r1, wy := p.y0[y]*step, p.y1[y]*step, p.wy[y]
		for x := 0; x < s.Width; x++ {
			c0, c1, wx := p.x0[x]*size, p.x1[x]*size, p.wx[x]
			i := y*s.Width + x
			if gray {
				v := luma(im.Data, r0, r1, c0, c1, offs, wx, wy)
				p.dst[i] = v*p.scale[0] + p.shift[0]
				continue
			}
			for c := 0; c < 3; c++ {
				o := order[c]
				v := bilerp(im.Data[r0+c0+o], im.Data[r0+c1+o], im.Data[r1+c0+o], im.Data[r1+c1+o], wx, wy)
				p.dst[c*plane+i] = v*p.scale[c] + p.shift[c]
			}
		}
	}
	return nil
}

// bilerp interpolates four 8-bit samples in the order torch uses, so that
// results match its float32 arithmetic.
func bilerp(a, b, c, d byte, wx, wy float32) float32 {
	top := (1-wx)*float32(a) + wx*float32(b)
	bot := (1-wx)*float32(c) + wx*float32(d)
	return (1-wy)*top + wy*bot
}

// luma is the ITU-R 601 grey value of an interpolated colour pixel.
func luma(data []byte, r0, r1, c0, c1 int, offs [3]int, wx, wy float32) float32 {
	var v float32
	for c, w := range [3]float32{0.299, 0.587, 0.114} {
		o := offs[c]
		v += w * bilerp(data[r0+c0+o], data[r0+c1+o], data[r1+c0+o], data[r1+c1+o], wx, wy)
	}
	return v
}
