package policy

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// tinyGolden is the part of models/tiny_test/golden.json these tests use:
// the reference tokenisation and preprocessing, computed with torch.
type tinyGolden struct {
	Steps []struct {
		Instruction string `json:"instruction"`
		Static      struct {
			Width, Height int
			Encoding      string
			Data          []int
		} `json:"static"`
		Gripper struct {
			Width, Height int
			Encoding      string
			Data          []int
		} `json:"gripper"`
	} `json:"steps"`
	Tokens []struct {
		Instruction string    `json:"instruction"`
		Tokens      []int64   `json:"tokens"`
		TokenMask   []float32 `json:"token_mask"`
	} `json:"tokens"`
	StageCheck struct {
		Step         int       `json:"step"`
		StaticImage  []float32 `json:"static_image"`
		GripperImage []float32 `json:"gripper_image"`
	} `json:"stage_check"`
}

func loadTinyGolden(t *testing.T) (*Manifest, *tinyGolden) {
	t.Helper()
	dir := filepath.Join("..", "models", "tiny_test")
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g tinyGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return m, &g
}

func TestTokenizerMatchesReference(t *testing.T) {
	m, g := loadTinyGolden(t)
	tok, err := NewTokenizer(m.Dir, m.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, m.Tokenizer.MaxTokens)
	mask := make([]float32, m.Tokenizer.MaxTokens)
	for _, want := range g.Tokens {
		if err := tok.Encode(want.Instruction, ids, mask); err != nil {
			t.Fatal(err)
		}
		for i := range ids {
			if ids[i] != want.Tokens[i] || mask[i] != want.TokenMask[i] {
				t.Fatalf("%q: tokens %v mask %v, want %v %v", want.Instruction, ids, mask, want.Tokens, want.TokenMask)
			}
		}
	}
	if err := tok.Encode("! ?", ids, mask); err != ErrEmptyInstruction {
		t.Fatalf("punctuation only: %v, want ErrEmptyInstruction", err)
	}
}

func TestPreprocessMatchesTorch(t *testing.T) {
	m, g := loadTinyGolden(t)
	st := g.Steps[g.StageCheck.Step]
	for i, cam := range m.Cameras {
		src, want := st.Static, g.StageCheck.StaticImage
		if cam.Slot == SlotGripper {
			src, want = st.Gripper, g.StageCheck.GripperImage
		}
		data := make([]byte, len(src.Data))
		for j, v := range src.Data {
			data[j] = byte(v)
		}
		dst := make([]float32, len(want))
		p := newPreprocessor(m.Cameras[i], dst)
		if err := p.load(&Image{Width: src.Width, Height: src.Height, Encoding: src.Encoding, Data: data}); err != nil {
			t.Fatal(err)
		}
		for j := range want {
			if math.Abs(float64(dst[j]-want[j])) > 1e-5 {
				t.Fatalf("%s camera (%dx%d -> %dx%d): element %d = %v, torch %v", cam.Slot, src.Width, src.Height, cam.Width, cam.Height, j, dst[j], want[j])
			}
		}
	}
}

// Every encoding, and padded rows, give the same tensor as packed rgb8.
func TestPreprocessEncodingsAndStep(t *testing.T) {
	spec := CameraSpec{Slot: SlotStatic, Width: 3, Height: 2, Channels: "rgb", Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Resize: ResizeNearest}
	const w, h = 5, 4
	rgb := make([]byte, w*h*3)
	for i := range rgb {
		rgb[i] = byte(i * 7)
	}
	convert := func(enc string, pad int) *Image {
		r, g, b, size, _ := pixelLayout(enc)
		step := w*size + pad
		data := make([]byte, step*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				src, dst := rgb[(y*w+x)*3:], data[y*step+x*size:]
				dst[r], dst[g], dst[b] = src[0], src[1], src[2]
				if size == 4 {
					dst[3] = 255
				}
			}
		}
		return &Image{Width: w, Height: h, Step: step, Encoding: enc, Data: data}
	}
	want := make([]float32, 18)
	if err := newPreprocessor(spec, want).load(convert("rgb8", 0)); err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{"bgr8", "rgba8", "bgra8"} {
		for _, pad := range []int{0, 3} {
			got := make([]float32, 18)
			if err := newPreprocessor(spec, got).load(convert(enc, pad)); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s with %d bytes of row padding: %v, want %v", enc, pad, got, want)
				}
			}
		}
	}
	// A bgr model sees the channels the other way round.
	bgr := spec
	bgr.Channels = "bgr"
	got := make([]float32, 18)
	if err := newPreprocessor(bgr, got).load(convert("rgb8", 0)); err != nil {
		t.Fatal(err)
	}
	if got[0] != want[12] || got[12] != want[0] {
		t.Fatalf("bgr model: red plane %v, want the rgb blue plane", got[:6])
	}
	// mono8 into an rgb model repeats the grey value.
	mono := &Image{Width: 2, Height: 2, Encoding: "mono8", Data: []byte{0, 51, 102, 255}}
	spec.Width, spec.Height = 2, 2
	got = make([]float32, 12)
	if err := newPreprocessor(spec, got).load(mono); err != nil {
		t.Fatal(err)
	}
	if near := func(v float32) bool { return math.Abs(float64(v)-0.2) < 1e-6 }; !near(got[1]) || !near(got[5]) || !near(got[9]) {
		t.Fatalf("mono8: %v", got)
	}
}
