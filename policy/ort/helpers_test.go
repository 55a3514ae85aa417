package ort

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/deervla/deer_vla/policy"
)

// repoRoot is the module root, found from this file's location.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// libraryPath finds ONNX Runtime: ONNXRUNTIME_SHARED_LIBRARY_PATH, or the
// copy scripts/fetch_onnxruntime.sh puts in third_party/. These tests need
// it and fail, not skip, without it: CI runs them.
func libraryPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		return p
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	p := filepath.Join(repoRoot(tb), "third_party", "onnxruntime", "1.24.3", "linux-"+arch, "libonnxruntime.so.1")
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("ONNX Runtime not found (%v): run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH", err)
	}
	return p
}

func tinyDir(tb testing.TB) string { return filepath.Join(repoRoot(tb), "models", "tiny_test") }

func loadTiny(tb testing.TB) *policy.Manifest {
	tb.Helper()
	m, err := policy.LoadManifest(tinyDir(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// newEngine opens the tiny model with settings s; the engine is closed at cleanup.
func newEngine(tb testing.TB, m *policy.Manifest, s policy.Settings, cals []*policy.Calibration) *policy.Engine {
	tb.Helper()
	be, err := Open(m, Config{Library: libraryPath(tb), IntraOpThreads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	e, err := policy.New(policy.Config{Manifest: m, Backend: be, Settings: s, Calibrations: cals})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Error(err)
		}
	})
	return e
}

// golden is models/tiny_test/golden.json, written by tools/model/gen_tiny_test.py
// from torch eager stages and a plain-Python exit rule.
type golden struct {
	Tolerance float64      `json:"tolerance"`
	Steps     []goldenStep `json:"steps"`
	Tokens    []struct {
		Instruction string    `json:"instruction"`
		Tokens      []int64   `json:"tokens"`
		TokenMask   []float32 `json:"token_mask"`
	} `json:"tokens"`
	StageCheck struct {
		StaticImage  []float32            `json:"static_image"`
		GripperImage []float32            `json:"gripper_image"`
		Features     map[string][]float32 `json:"features"`
		Head         []struct {
			Feature string    `json:"feature"`
			Pose    []float32 `json:"pose"`
			Gripper float32   `json:"gripper"`
			HOut    []float32 `json:"h_out"`
			COut    []float32 `json:"c_out"`
		} `json:"head"`
	} `json:"stage_check"`
	FullDepthRMS [][]float64 `json:"full_depth_distances_rms"`
	Runs         []goldenRun `json:"runs"`
}

type goldenImage struct {
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Encoding string `json:"encoding"`
	Data     []byte `json:"-"`
	Raw      []int  `json:"data"`
}

type goldenStep struct {
	Episode     int         `json:"episode"`
	Instruction string      `json:"instruction"`
	Static      goldenImage `json:"static"`
	Gripper     goldenImage `json:"gripper"`
}

type goldenRun struct {
	Name           string    `json:"name"`
	Metric         string    `json:"metric"`
	Thresholds     []float64 `json:"thresholds"`
	MaxExit        int       `json:"max_exit"`
	HoldSteps      int       `json:"hold_steps"`
	AverageLastTwo bool      `json:"average_last_two"`
	Results        []struct {
		Exit        int       `json:"exit"`
		Held        bool      `json:"held"`
		Pose        []float32 `json:"pose"`
		GripperProb float32   `json:"gripper_prob"`
		Distances   []float64 `json:"distances"`
	} `json:"results"`
}

func loadGolden(tb testing.TB) *golden {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(tinyDir(tb), "golden.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		tb.Fatal(err)
	}
	for i := range g.Steps {
		for _, im := range []*goldenImage{&g.Steps[i].Static, &g.Steps[i].Gripper} {
			im.Data = make([]byte, len(im.Raw))
			for j, v := range im.Raw {
				im.Data[j] = byte(v)
			}
		}
	}
	return &g
}

func (s *goldenStep) observation() *policy.Observation {
	img := func(g *goldenImage) *policy.Image {
		return &policy.Image{Width: g.Width, Height: g.Height, Encoding: g.Encoding, Data: g.Data}
	}
	return &policy.Observation{Static: img(&s.Static), Gripper: img(&s.Gripper), Instruction: s.Instruction}
}

// settings turns a golden run's configuration into engine settings: a peak
// budget caps the exits, as max_exit does in the reference.
func (r *goldenRun) settings(tb testing.TB, m *policy.Manifest) policy.Settings {
	tb.Helper()
	metric, err := policy.ParseMetric(r.Metric)
	if err != nil {
		tb.Fatal(err)
	}
	s := policy.Settings{Thresholds: r.Thresholds, Metric: metric, HoldSteps: r.HoldSteps, AverageLastTwo: r.AverageLastTwo}
	if r.MaxExit < len(m.Exits) {
		s.PeakGFLOPs = m.Exits[r.MaxExit-1].GFLOPs
	}
	return s
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
