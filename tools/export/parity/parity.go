// Package parity checks an exported DeeR-VLA model folder, run by the Go
// engine through ONNX Runtime, against the torch goldens the exporter
// writes (tools/export/deer_export.py --golden, or its check mode): the
// same camera images and instructions go through both, and every stage's
// outputs, the actions, the distances, the chosen exits and the committed
// LSTM state are compared.
package parity

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/ort"
)

// Golden is the exporter's golden file.
type Golden struct {
	Tolerance float64      `json:"tolerance"`
	Source    string       `json:"source"`   // what made it; the exporter's goldens leave it empty
	Features  []string     `json:"features"` // the exits' feature tensors, exit 1 first
	Steps     []GoldenStep `json:"steps"`
	Runs      []GoldenRun  `json:"runs"`
}

// GoldenImage is a camera image; Data is base64 in the file.
type GoldenImage struct {
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Encoding string `json:"encoding"`
	Data     []byte `json:"data"`
}

// GoldenStep is one recorded step and the torch stages' outputs on it.
type GoldenStep struct {
	Episode      int         `json:"episode"`
	Instruction  string      `json:"instruction"`
	Static       GoldenImage `json:"static"`
	Gripper      GoldenImage `json:"gripper"`
	Tokens       []int64     `json:"tokens"`
	StaticCrop   []byte      `json:"static_crop"`  // PIL's resize and crop, uint8 HWC
	GripperCrop  []byte      `json:"gripper_crop"` // likewise
	VisualTokens f32s        `json:"visual_tokens"`
	Feature1     f32s        `json:"feature_1"`
	ExitFeatures []f32s      `json:"exit_features"` // exit 1 first, at full depth
}

// GoldenRun is the DeeR exit rule with given thresholds over the steps.
type GoldenRun struct {
	Name       string    `json:"name"`
	Thresholds []float64 `json:"thresholds"`
	Results    []struct {
		Exit        int       `json:"exit"`
		Pose        []float32 `json:"pose"`
		GripperProb float32   `json:"gripper_prob"`
		Distances   []float64 `json:"distances"`
		H           f32s      `json:"h"`
		C           f32s      `json:"c"`
	} `json:"results"`
}

// f32s is a float32 array stored as base64 little-endian bytes.
type f32s []float32

func (f *f32s) UnmarshalJSON(b []byte) error {
	var raw []byte
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw)%4 != 0 {
		return fmt.Errorf("float32 array of %d bytes", len(raw))
	}
	*f = make([]float32, len(raw)/4)
	for i := range *f {
		(*f)[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return nil
}

// ReadGolden reads a golden file.
func ReadGolden(path string) (*Golden, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var g Golden
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(g.Steps) == 0 || len(g.Runs) == 0 {
		return nil, fmt.Errorf("%s: no steps or no runs", path)
	}
	return &g, nil
}

// Diff is the largest difference of one kind of value.
type Diff struct {
	Abs   float64 // largest |go - torch|
	Rel   float64 // largest |go - torch| / max(1, |torch|): what the tolerance bounds
	Where string  // the step and tensor of the largest Rel
}

func (d *Diff) add(got, want float64, where string) {
	a := math.Abs(got - want)
	r := a / math.Max(1, math.Abs(want))
	if math.IsNaN(a) {
		a, r = math.Inf(1), math.Inf(1)
	}
	d.Abs = math.Max(d.Abs, a)
	if r > d.Rel || d.Where == "" {
		d.Rel, d.Where = r, where
	}
}

// Report is the outcome of a comparison.
type Report struct {
	Tolerance float64
	Source    string // the golden's source
	// Diffs by kind: "visual tokens", "reference feature", "exit features",
	// "pose", "gripper", "distances", "lstm state".
	Diffs map[string]*Diff
	// PixelLevels is the largest difference, in uint8 levels, between the
	// engine's preprocessed camera tensors and PIL's resize and crop.
	PixelLevels float64
	Steps       int
	// ExitMismatches lists steps whose chosen exit differs.
	ExitMismatches []string
	ExitsChosen    map[string][]int // by run, the engine's exits
}

// Failures lists what is out of tolerance, or nil.
func (r *Report) Failures() []string {
	var out []string
	for k, d := range r.Diffs {
		if d.Rel > r.Tolerance {
			out = append(out, fmt.Sprintf("%s differ by %.3g (abs %.3g) at %s, tolerance %g", k, d.Rel, d.Abs, d.Where, r.Tolerance))
		}
	}
	return append(out, r.ExitMismatches...)
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d steps x %d runs; largest differences, Go engine vs %s "+
		"(relative to max(1,|golden|); tolerance %g):\n", r.Steps, len(r.ExitsChosen), r.Source, r.Tolerance)
	for _, k := range []string{"visual tokens", "reference feature", "exit features", "pose", "gripper", "distances", "lstm state"} {
		if d := r.Diffs[k]; d != nil {
			fmt.Fprintf(&b, "  %-18s %.3g (abs %.3g, at %s)\n", k, d.Rel, d.Abs, d.Where)
		}
	}
	fmt.Fprintf(&b, "  camera tensors vs PIL: %.3g uint8 levels\n", r.PixelLevels)
	for name, ex := range r.ExitsChosen {
		fmt.Fprintf(&b, "  run %s: exits %v\n", name, ex)
	}
	if len(r.ExitMismatches) > 0 {
		fmt.Fprintf(&b, "  exit mismatches: %s\n", strings.Join(r.ExitMismatches, "; "))
	}
	return b.String()
}

// Compare runs the model folder dir through the Go engine with ONNX Runtime
// (the library at lib) on the golden's steps, once per golden run. Any
// golden in this format will do: the exporter's, or one written from
// DeeR-VLA's own code.
func Compare(dir string, g *Golden, lib string) (*Report, error) {
	m, err := policy.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	if len(g.Features) != len(m.Exits) {
		return nil, fmt.Errorf("golden has %d exits, the model %d", len(g.Features), len(m.Exits))
	}
	src := g.Source
	if src == "" {
		src = "the exporter's torch modules"
	}
	rep := &Report{Tolerance: g.Tolerance, Source: src, Diffs: map[string]*Diff{}, Steps: len(g.Steps), ExitsChosen: map[string][]int{}}
	diff := func(kind string) *Diff {
		if rep.Diffs[kind] == nil {
			rep.Diffs[kind] = &Diff{}
		}
		return rep.Diffs[kind]
	}
	cmp := func(kind, where string, got []float32, want []float32) error {
		if len(got) != len(want) {
			return fmt.Errorf("%s: %s has %d values, torch %d", where, kind, len(got), len(want))
		}
		d := diff(kind)
		for i := range want {
			d.add(float64(got[i]), float64(want[i]), where)
		}
		return nil
	}
	for _, run := range g.Runs {
		if len(run.Results) != len(g.Steps) {
			return nil, fmt.Errorf("run %s: %d results for %d steps", run.Name, len(run.Results), len(g.Steps))
		}
		be, err := ort.Open(m, ort.Config{Library: lib, IntraOpThreads: 1})
		if err != nil {
			return nil, err
		}
		e, err := policy.New(policy.Config{Manifest: m, Backend: be,
			Settings: policy.Settings{Thresholds: run.Thresholds, Metric: policy.MetricRMS}})
		if err != nil {
			return nil, err
		}
		for i := range g.Steps {
			s := &g.Steps[i]
			where := fmt.Sprintf("run %s step %d", run.Name, i)
			got, err := e.Step(s.observation())
			if err != nil {
				e.Close()
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			want := &run.Results[i]
			if toks := be.Int64(m.Tokenizer.TokensTensor); !equalInt64(toks, s.Tokens) {
				e.Close()
				return nil, fmt.Errorf("%s: token ids %v, torch %v (instruction %q)", where, toks, s.Tokens, s.Instruction)
			}
			rep.ExitsChosen[run.Name] = append(rep.ExitsChosen[run.Name], got.Exit)
			if got.Exit != want.Exit {
				rep.ExitMismatches = append(rep.ExitMismatches, fmt.Sprintf("%s: exit %d, torch %d (distances %v, torch %v)",
					where, got.Exit, want.Exit, got.Distances[:got.NumDistances], want.Distances))
			}
			for k := range want.Pose {
				diff("pose").add(float64(got.Action.Pose[k]), float64(want.Pose[k]), where)
			}
			diff("gripper").add(float64(got.Action.GripperProb), float64(want.GripperProb), where)
			for k := 0; k < min(got.NumDistances, len(want.Distances)); k++ {
				diff("distances").add(got.Distances[k], want.Distances[k], where)
			}
			errs := []error{
				cmp("lstm state", where+" h", be.Float32(m.Head.StateInputs[0]), want.H),
				cmp("lstm state", where+" c", be.Float32(m.Head.StateInputs[1]), want.C),
				cmp("visual tokens", where, be.Float32("visual_tokens"), s.VisualTokens),
				cmp("reference feature", where, be.Float32(m.ReferenceFeature), s.Feature1),
			}
			// Every exit the engine ran this step left its feature in its buffer.
			for k := 0; k < got.Exit; k++ {
				errs = append(errs, cmp("exit features", fmt.Sprintf("%s exit %d", where, k+1), be.Float32(g.Features[k]), s.ExitFeatures[k]))
			}
			for _, err := range errs {
				if err != nil {
					e.Close()
					return nil, err
				}
			}
			rep.PixelLevels = math.Max(rep.PixelLevels, pixelLevels(m, be, s))
		}
		if err := e.Close(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// pixelLevels is how far the engine's camera tensors are from PIL's resized
// and cropped images, in uint8 levels.
func pixelLevels(m *policy.Manifest, be *ort.Backend, s *GoldenStep) float64 {
	worst := 0.0
	for _, cam := range m.Cameras {
		crop := s.StaticCrop
		if cam.Slot == policy.SlotGripper {
			crop = s.GripperCrop
		}
		x := be.Float32(cam.Tensor)
		hw := cam.Width * cam.Height
		if len(crop) != 3*hw || len(x) != 3*hw {
			return math.Inf(1)
		}
		for c := 0; c < 3; c++ {
			for p := 0; p < hw; p++ {
				level := (float64(x[c*hw+p])*float64(cam.Std[c]) + float64(cam.Mean[c])) * 255
				worst = math.Max(worst, math.Abs(level-float64(crop[3*p+c])))
			}
		}
	}
	return worst
}

func (s *GoldenStep) observation() *policy.Observation {
	img := func(g *GoldenImage) *policy.Image {
		return &policy.Image{Width: g.Width, Height: g.Height, Encoding: g.Encoding, Data: g.Data}
	}
	return &policy.Observation{Static: img(&s.Static), Gripper: img(&s.Gripper), Instruction: s.Instruction}
}

func equalInt64(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
