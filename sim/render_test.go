package sim

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "update golden files")

// looksLike reports whether the rgb pixel has the hue of block colour c,
// whatever its shading.
func looksLike(p []byte, c Colour) bool {
	r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
	switch c {
	case Red:
		return r > 1.8*g && r > 1.8*b
	case Green:
		return g > 1.5*r && g > 1.5*b
	case Blue:
		return b > 1.8*r && b > 1.5*g
	case Yellow:
		return r > 1.8*b && g > 1.8*b
	}
	return false
}

// share returns the fraction of pixels of the w-wide image pix in the
// square [x0, x1) x [y0, y1) that look like colour c.
func share(pix []byte, w, x0, y0, x1, y1 int, c Colour) float64 {
	n, hit := 0, 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			n++
			if o := (y*w + x) * 3; looksLike(pix[o:o+3], c) {
				hit++
			}
		}
	}
	return float64(hit) / float64(n)
}

func TestGripperCameraSeesBlockBelow(t *testing.T) {
	env := mustNew(t, Config{})
	for seed := range uint64(5) {
		env.Reset(seed, TaskPick)
		for i := range env.st.NumBlocks {
			b := env.st.Blocks[i]
			t.Run(fmt.Sprintf("seed %d %v", seed, b.Colour), func(t *testing.T) {
				for _, z := range []float64{0.05, 0.3, 0.6} {
					env.st.Effector.Pos = [3]float64{b.Pos[0], b.Pos[1], z}
					env.render()
					if f := share(env.rnd.gripperPix, GripperSize, 14, 14, 18, 18, b.Colour); f < 0.9 {
						t.Fatalf("effector at height %g: only %.0f%% of the gripper view's centre looks %v", z, 100*f, b.Colour)
					}
				}
				// Moved half a metre away, the gripper camera centre sees no block.
				env.st.Effector.Pos = [3]float64{b.Pos[0], clamp(b.Pos[1]+0.5, -0.95, 0.95), 0.05}
				if b.Pos[1] > 0 {
					env.st.Effector.Pos[1] = b.Pos[1] - 0.5
				}
				env.render()
				if f := share(env.rnd.gripperPix, GripperSize, 12, 12, 20, 20, b.Colour); f > 0 {
					t.Fatalf("effector away from the block: %.0f%% of the centre still looks %v", 100*f, b.Colour)
				}
			})
		}
	}
}

func TestStaticCameraShowsBlocks(t *testing.T) {
	env := mustNew(t, Config{})
	for seed := range uint64(10) {
		env.Reset(seed, TaskPick)
		env.st.Effector.Pos = [3]float64{0, 0.9, 0.8} // out of the way
		env.render()
		for i := range env.st.NumBlocks {
			b := env.st.Blocks[i]
			u, v, _ := env.rnd.static.project(vec3(b.Pos).add(vec3{0, 0, BlockHalf}))
			x, y := int(u), int(v)
			if f := share(env.rnd.staticPix, StaticSize, x-1, y-1, x+2, y+2, b.Colour); f < 0.5 {
				t.Fatalf("seed %d: static pixels around (%d, %d) are only %.0f%% %v", seed, x, y, 100*f, b.Colour)
			}
		}
	}
}

func TestLiftedBlockLooksBigger(t *testing.T) {
	env := mustNew(t, Config{})
	env.Reset(1, TaskPick)
	b := &env.st.Blocks[env.st.Target]
	env.st.Effector.Pos = [3]float64{0, 0.9, 0.8}
	count := func() int {
		env.render()
		n := 0
		for o := 0; o < len(env.rnd.staticPix); o += 3 {
			if looksLike(env.rnd.staticPix[o:o+3], b.Colour) {
				n++
			}
		}
		return n
	}
	low := count()
	b.Pos[2] = 0.5
	if high := count(); high <= low {
		t.Fatalf("block covers %d pixels at 0.5 m and %d on the table, want more when lifted", high, low)
	}
}

// goldenEnv returns the Env of the golden frame: seed 3's place task after
// 40 expert steps, block held and lifted.
func goldenEnv(tb testing.TB) *Env {
	tb.Helper()
	env := mustNew(tb, Config{})
	env.Reset(3, TaskPlace)
	for range 40 {
		env.Step(env.Expert())
	}
	if env.State().Held != env.State().Target {
		tb.Fatalf("golden frame: target block not held")
	}
	return env
}

func TestGoldenFrame(t *testing.T) {
	obs := goldenEnv(t).observe()
	cases := []struct {
		name string
		pix  []byte
		w, h int
	}{
		{name: "static", pix: obs.Static, w: obs.StaticW, h: obs.StaticH},
		{name: "gripper", pix: obs.Gripper, w: obs.GripperW, h: obs.GripperH},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "frame_"+tc.name+".png")
			if *update {
				writeGolden(t, path, tc.pix, tc.w, tc.h)
				return
			}
			want := readGolden(t, path, tc.w, tc.h)
			if !bytes.Equal(tc.pix, want) {
				diff := 0
				for i := 0; i < len(want); i += 3 {
					if !bytes.Equal(tc.pix[i:i+3], want[i:i+3]) {
						diff++
					}
				}
				t.Fatalf("%s differs from %s in %d pixels; if the change is intended, run go test -run GoldenFrame -update and review the PNG", tc.name, path, diff)
			}
		})
	}
}

// writeGolden writes an rgb8 buffer as a PNG.
func writeGolden(tb testing.TB, path string, pix []byte, w, h int) {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		img.SetNRGBA(i%w, i/w, color.NRGBA{pix[3*i], pix[3*i+1], pix[3*i+2], 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// readGolden reads a PNG into an rgb8 buffer.
func readGolden(tb testing.TB, path string, w, h int) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("%v (run go test -run GoldenFrame -update to create it)", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		tb.Fatalf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	pix := make([]byte, 0, w*h*3)
	for y := range h {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			pix = append(pix, c.R, c.G, c.B)
		}
	}
	return pix
}
