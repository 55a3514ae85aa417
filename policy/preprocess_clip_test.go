package policy

import (
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// clipGolden is one case written by testdata/gen_clip_golden.py with PIL.
type clipGolden struct {
	name string
	size int
	in   *Image // rgb8
	want []byte // PIL's resized and cropped pixels, rgb8, size x size
}

func readPNG(t *testing.T, path string) *Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	im := &Image{Width: b.Dx(), Height: b.Dy(), Encoding: "rgb8", Data: make([]byte, 0, b.Dx()*b.Dy()*3)}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			im.Data = append(im.Data, c.R, c.G, c.B)
		}
	}
	return im
}

func clipGoldens(t *testing.T) []clipGolden {
	t.Helper()
	dir := filepath.Join("testdata", "clip")
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Pillow string `json:"pillow"`
		Cases  []struct {
			Name string `json:"name"`
			Size int    `json:"size"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	var out []clipGolden
	for _, c := range index.Cases {
		want := readPNG(t, filepath.Join(dir, "out_"+c.Name+".png"))
		if want.Width != c.Size || want.Height != c.Size {
			t.Fatalf("%s: golden is %dx%d, want %d", c.Name, want.Width, want.Height, c.Size)
		}
		out = append(out, clipGolden{c.Name, c.Size, readPNG(t, filepath.Join(dir, "in_"+c.Name+".png")), want.Data})
	}
	if len(out) == 0 {
		t.Fatal("no golden cases")
	}
	return out
}

// clipCamera is a CLIP camera whose tensor holds pixel/255, so that the
// resized bytes can be read back exactly.
func clipCamera(size int, channels string) CameraSpec {
	n := 3
	if channels == "gray" {
		n = 1
	}
	ones, zeros := make([]float32, n), make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	return CameraSpec{Slot: SlotStatic, Tensor: "img", Width: size, Height: size, Channels: channels, Mean: zeros, Std: ones, Resize: ResizeCLIP}
}

// runCLIP preprocesses im and returns the tensor's pixels as bytes, in
// channel planes.
func runCLIP(t *testing.T, spec CameraSpec, im *Image) []byte {
	t.Helper()
	dst := make([]float32, len(spec.Mean)*spec.Width*spec.Height)
	p := newPreprocessor(spec, dst)
	if err := p.load(im); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(dst))
	for i, v := range dst {
		b := math.Round(float64(v) * 255)
		if math.Abs(float64(v)*255-b) > 1e-3 || b < 0 || b > 255 {
			t.Fatalf("tensor value %g is not a byte / 255", v)
		}
		out[i] = byte(b)
	}
	return out
}

// The resize and crop match PIL's bicubic output: upscaling CALVIN's
// cameras, downscaling a VGA frame, odd and portrait sizes.
func TestCLIPResizeMatchesPIL(t *testing.T) {
	for _, g := range clipGoldens(t) {
		got := runCLIP(t, clipCamera(g.size, "rgb"), g.in)
		plane := g.size * g.size
		maxDiff, differ := 0, 0
		for i := 0; i < plane; i++ {
			for c := 0; c < 3; c++ {
				d := int(got[c*plane+i]) - int(g.want[i*3+c])
				if d < 0 {
					d = -d
				}
				if d > 0 {
					differ++
				}
				maxDiff = max(maxDiff, d)
			}
		}
		t.Logf("%s: %dx%d -> %d: max difference %d levels, %d of %d values differ", g.name, g.in.Width, g.in.Height, g.size, maxDiff, differ, 3*plane)
		if maxDiff > 1 {
			t.Errorf("%s: max difference from PIL is %d levels, want <= 1", g.name, maxDiff)
		}
	}
}

// repack returns an rgb8 frame in another encoding, with padded rows.
func repack(im *Image, encoding string) *Image {
	size := map[string]int{"bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}[encoding]
	step := im.Width*size + 5
	out := &Image{Width: im.Width, Height: im.Height, Step: step, Encoding: encoding, Data: make([]byte, step*im.Height)}
	for y := 0; y < im.Height; y++ {
		for x := 0; x < im.Width; x++ {
			p := im.Data[(y*im.Width+x)*3:]
			q := out.Data[y*step+x*size:]
			switch encoding {
			case "bgr8":
				q[0], q[1], q[2] = p[2], p[1], p[0]
			case "rgba8":
				q[0], q[1], q[2], q[3] = p[0], p[1], p[2], 7
			case "bgra8":
				q[0], q[1], q[2], q[3] = p[2], p[1], p[0], 7
			case "mono8":
				q[0] = pilLuma(p[0], p[1], p[2])
			}
		}
	}
	return out
}

// Other encodings and channel orders give the same pixels: alpha is
// ignored, bgr models get reversed planes, grey models and mono8 frames
// use PIL's own luma.
func TestCLIPEncodings(t *testing.T) {
	g := clipGoldens(t)[0]
	rgb := runCLIP(t, clipCamera(g.size, "rgb"), g.in)
	plane := g.size * g.size
	for _, enc := range []string{"bgr8", "rgba8", "bgra8"} {
		if got := runCLIP(t, clipCamera(g.size, "rgb"), repack(g.in, enc)); string(got) != string(rgb) {
			t.Errorf("%s frame: tensor differs from the rgb8 frame's", enc)
		}
	}
	bgr := runCLIP(t, clipCamera(g.size, "bgr"), g.in)
	if string(bgr[:plane]) != string(rgb[2*plane:]) || string(bgr[2*plane:]) != string(rgb[:plane]) {
		t.Error("bgr model: planes are not in reversed order")
	}
	mono := repack(g.in, "mono8")
	grey := runCLIP(t, clipCamera(g.size, "gray"), g.in)
	if got := runCLIP(t, clipCamera(g.size, "gray"), mono); string(got) != string(grey) {
		t.Error("grey model: mono8 frame differs from the rgb8 frame's luma")
	}
	fromMono := runCLIP(t, clipCamera(g.size, "rgb"), mono)
	for c := 0; c < 3; c++ {
		if string(fromMono[c*plane:(c+1)*plane]) != string(grey) {
			t.Fatalf("colour model, mono8 frame: plane %d is not the grey image", c)
		}
	}
}

// The tensor is (pixel/255 - mean) / std with the camera's mean and std.
func TestCLIPNormalisation(t *testing.T) {
	g := clipGoldens(t)[1]
	spec := clipCamera(g.size, "rgb")
	spec.Mean = []float32{0.48145466, 0.4578275, 0.40821073}
	spec.Std = []float32{0.26862954, 0.26130258, 0.27577711}
	dst := make([]float32, 3*g.size*g.size)
	if err := newPreprocessor(spec, dst).load(g.in); err != nil {
		t.Fatal(err)
	}
	plane := g.size * g.size
	for i := 0; i < plane; i++ {
		for c := 0; c < 3; c++ {
			want := (float32(g.want[i*3+c])/255 - spec.Mean[c]) / spec.Std[c]
			if d := math.Abs(float64(dst[c*plane+i] - want)); d > 1e-5 {
				t.Fatalf("pixel %d channel %d: %g, want %g", i, c, dst[c*plane+i], want)
			}
		}
	}
}

// After the first frame of a size, preprocessing allocates nothing; a new
// size rebuilds the tables and gives the new size's result.
func TestCLIPSteadyStateAllocatesNothing(t *testing.T) {
	gs := clipGoldens(t)
	var a, b clipGolden
	for _, g := range gs {
		if g.size == 16 {
			if a.in == nil {
				a = g
			} else if b.in == nil {
				b = g
			}
		}
	}
	spec := clipCamera(16, "rgb")
	dst := make([]float32, 3*16*16)
	p := newPreprocessor(spec, dst)
	if err := p.load(a.in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10, func() { _ = p.load(a.in) }); n != 0 {
		t.Errorf("%g allocations per frame, want 0", n)
	}
	if err := p.load(b.in); err != nil {
		t.Fatal(err)
	}
	fresh := runCLIP(t, spec, b.in)
	for i, v := range dst {
		if math.Abs(float64(v)*255-float64(fresh[i])) > 1e-3 {
			t.Fatalf("after a size change, value %d is %g, a fresh preprocessor gives %d/255", i, v, fresh[i])
		}
	}
}

// BenchmarkCLIPPreprocess times one camera frame through resize: clip.
func BenchmarkCLIPPreprocess(b *testing.B) {
	for _, size := range [][2]int{{200, 200}, {84, 84}, {640, 480}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			im := &Image{Width: size[0], Height: size[1], Encoding: "rgb8", Data: make([]byte, size[0]*size[1]*3)}
			for i := range im.Data {
				im.Data[i] = byte(i * 7)
			}
			spec := clipCamera(224, "rgb")
			p := newPreprocessor(spec, make([]float32, 3*224*224))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := p.load(im); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
