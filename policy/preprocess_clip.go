package policy

import "math"

// CLIP preprocessing (resize: clip) as the reference does it with
// torchvision on a PIL image: Resize(size, BICUBIC) of the shorter side,
// CenterCrop(size), ToTensor, Normalize. The resize follows Pillow's
// ImagingResample for 8-bit images (libImaging/Resample.c) step by step,
// because CLIP-based policies were trained on its exact output:
//
//   - a separable bicubic filter (a = -0.5), horizontal pass first, then
//     vertical, each to 8 bits with rounding and clipping;
//   - the filter's support is widened by the shrink factor, so shrinking
//     averages (antialiasing), and each output pixel's weights are
//     normalised to sum to one;
//   - the weights are fixed point with 22 fractional bits.
//
// Only the output pixels inside the crop are computed: each depends on its
// own weights alone, so the result is the same as resizing whole and
// cropping. Tables are rebuilt when the frame size changes; a step of an
// unchanged size allocates nothing.

// clipPrecisionBits is Pillow's PRECISION_BITS for 8-bit images.
const clipPrecisionBits = 32 - 8 - 2

// clipTables is one frame size's resampling plan.
type clipTables struct {
	srcW, srcH int
	nch        int     // channels resampled: 3, or 1 for grey
	x          axisFir // output columns of the crop
	y          axisFir // output rows of the crop, relative to row0
	row0, rows int     // source rows the horizontal pass reads
	tmp        []uint8 // horizontal pass output: rows x width x nch
	acc        []int32 // one output row's vertical sums: width x nch
}

// axisFir holds, for each output pixel along one axis, the first source
// pixel it reads, how many it reads and their fixed-point weights.
type axisFir struct {
	first, count []int
	ksize        int
	k            []int32 // len(first) * ksize
}

// clipResizedSize is torchvision's Resize(size) for a w x h image: the
// shorter side becomes size, the longer int(size * long / short).
func clipResizedSize(w, h, size int) (rw, rh int) {
	if w <= h {
		return size, int(float64(size*h) / float64(w))
	}
	return int(float64(size*w) / float64(h)), size
}

// clipCropOffset is torchvision's CenterCrop offset: round((in - out) / 2),
// rounding halves to even as Python's round does.
func clipCropOffset(in, out int) int {
	return int(math.RoundToEven(float64(in-out) / 2))
}

// bicubic is Pillow's bicubic_filter with a = -0.5.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// newAxisFir is Pillow's precompute_coeffs and normalize_coeffs_8bpc for an
// in -> out resize, kept for output pixels first..first+n-1 only.
func newAxisFir(in, out, first, n int) axisFir {
	scale := float64(float32(in)) / float64(out)
	filterscale := max(scale, 1)
	support := 2 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	inv := 1 / filterscale
	f := axisFir{first: make([]int, n), count: make([]int, n), ksize: ksize, k: make([]int32, n*ksize)}
	w := make([]float64, ksize)
	for i := 0; i < n; i++ {
		center := (float64(first+i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		count := hi - lo
		ww := 0.0
		for x := 0; x < count; x++ {
			w[x] = bicubic((float64(x+lo) - center + 0.5) * inv)
			ww += w[x]
		}
		k := f.k[i*ksize : (i+1)*ksize]
		for x := 0; x < count; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<clipPrecisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<clipPrecisionBits))
			}
		}
		f.first[i], f.count[i] = lo, count
	}
	return f
}

// clip8 is Pillow's clip8: the rounded fixed-point sum to a byte.
func clip8(ss int32) uint8 {
	v := ss >> clipPrecisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// plan rebuilds the tables for a w x h frame resampled in nch channels to
// the camera's square size.
func (t *clipTables) plan(w, h, nch, size int) {
	rw, rh := clipResizedSize(w, h, size)
	t.x = newAxisFir(w, rw, clipCropOffset(rw, size), size)
	t.y = newAxisFir(h, rh, clipCropOffset(rh, size), size)
	last := len(t.y.first) - 1
	t.row0 = t.y.first[0]
	t.rows = t.y.first[last] + t.y.count[last] - t.row0
	for i := range t.y.first {
		t.y.first[i] -= t.row0
	}
	t.tmp = make([]uint8, t.rows*size*nch)
	t.acc = make([]int32, size*nch)
	t.srcW, t.srcH, t.nch = w, h, nch
}

// loadCLIP converts a checked frame into the tensor. offs and size are the
// frame's pixel layout (see Image.check), step its row stride.
func (p *preprocessor) loadCLIP(im *Image, offs [3]int, size, step int) {
	s := p.spec
	gray := s.Channels == "gray"
	mono := size == 1
	nch := 3
	if gray || mono {
		nch = 1
	}
	t := &p.clip
	if im.Width != t.srcW || im.Height != t.srcH || nch != t.nch {
		t.plan(im.Width, im.Height, nch, s.Width)
	}
	order := offs // resampled channel -> byte offset in a pixel
	if s.Channels == "bgr" {
		order = [3]int{offs[2], offs[1], offs[0]}
	}
	W := s.Width
	// Horizontal pass: source rows row0..row0+rows, crop columns only.
	half := int32(1 << (clipPrecisionBits - 1))
	for r := 0; r < t.rows; r++ {
		src := im.Data[(t.row0+r)*step : (t.row0+r)*step+im.Width*size]
		out := t.tmp[r*W*nch : (r+1)*W*nch]
		for j := 0; j < W; j++ {
			k := t.x.k[j*t.x.ksize : j*t.x.ksize+t.x.count[j]]
			o := t.x.first[j] * size
			if nch == 1 {
				ss := half
				for _, kx := range k {
					v := src[o]
					if gray && !mono {
						v = pilLuma(src[o+offs[0]], src[o+offs[1]], src[o+offs[2]])
					}
					ss += int32(v) * kx
					o += size
				}
				out[j] = clip8(ss)
				continue
			}
			s0, s1, s2 := half, half, half
			for _, kx := range k {
				px := src[o : o+size]
				s0 += int32(px[order[0]]) * kx
				s1 += int32(px[order[1]]) * kx
				s2 += int32(px[order[2]]) * kx
				o += size
			}
			out[j*3], out[j*3+1], out[j*3+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
	// Vertical pass, a whole output row at a time so that the rows of tmp
	// are read in order, then normalisation into the tensor.
	plane := W * s.Height
	acc := t.acc
	for i := 0; i < s.Height; i++ {
		for n := range acc {
			acc[n] = half
		}
		lo := t.y.first[i]
		for y, ky := range t.y.k[i*t.y.ksize : i*t.y.ksize+t.y.count[i]] {
			row := t.tmp[(lo+y)*W*nch : (lo+y+1)*W*nch]
			for n, v := range row {
				acc[n] += int32(v) * ky
			}
		}
		p.writeCLIPRow(acc, i*W, plane, nch, gray)
	}
}

// writeCLIPRow normalises one resampled row (nch interleaved channels)
// into the tensor's planes from offset at.
func (p *preprocessor) writeCLIPRow(acc []int32, at, plane, nch int, gray bool) {
	W := len(acc) / nch
	if nch == 3 {
		for c := 0; c < 3; c++ {
			dst := p.dst[c*plane+at : c*plane+at+W]
			scale, shift := p.scale[c], p.shift[c]
			for j := range dst {
				dst[j] = float32(clip8(acc[j*3+c]))*scale + shift
			}
		}
		return
	}
	channels := 3 // a mono8 frame for a colour model: repeat the grey plane
	if gray {
		channels = 1
	}
	for c := 0; c < channels; c++ {
		dst := p.dst[c*plane+at : c*plane+at+W]
		scale, shift := p.scale[c], p.shift[c]
		for j := range dst {
			dst[j] = float32(clip8(acc[j]))*scale + shift
		}
	}
}

// pilLuma is Pillow's RGB to L conversion (ITU-R 601-2, 16-bit fixed point).
func pilLuma(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}
