package ort

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
)

// parityDoc is models/deer_tiny/parity.json, written by tools/train/deer_tiny.py
// from the trained PyTorch model (torch eager stages, plain-Python exit rule)
// on the first episodes of the sample demonstration bag.
type parityDoc struct {
	Bag       string  `json:"bag"` // relative to the repository root
	Episodes  int     `json:"episodes"`
	Tolerance float64 `json:"tolerance"`
	Steps     int     `json:"steps"`
	Stamps    []int64 `json:"stamps"`
	Runs      []struct {
		Name       string    `json:"name"`
		Thresholds []float64 `json:"thresholds"`
		MaxExit    int       `json:"max_exit"`
		Results    []struct {
			Exit        int       `json:"exit"`
			Pose        []float32 `json:"pose"`
			GripperProb float32   `json:"gripper_prob"`
			Distances   []float64 `json:"distances"`
		} `json:"results"`
	} `json:"runs"`
}

// parityStep is one recorded step of the sample bag.
type parityStep struct {
	episode int
	stamp   int64
	obs     policy.Observation
}

// readParitySteps replays the first episodes of a demonstration bag: each
// /instruction starts an episode; a step is a static and a gripper image
// with the same stamp.
func readParitySteps(t *testing.T, path string, episodes int) []parityStep {
	t.Helper()
	r, err := bag.Open(path, bag.WithTopics("/instruction", "/static_image", "/gripper_image"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var (
		steps  []parityStep
		msg    bag.Message
		instr  string
		ep     = -1
		images = map[int64]map[string]*policy.Image{}
	)
	for {
		err := r.Next(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if msg.Topic == "/instruction" {
			var s msgs.String
			if err := s.UnmarshalCDR(msg.Data); err != nil {
				t.Fatal(err)
			}
			if ep+1 == episodes {
				break
			}
			ep, instr = ep+1, s.Data
			continue
		}
		if ep < 0 {
			continue
		}
		var im msgs.Image
		if err := im.UnmarshalCDR(msg.Data); err != nil {
			t.Fatal(err)
		}
		stamp := im.Header.Stamp.Nanos()
		if images[stamp] == nil {
			images[stamp] = map[string]*policy.Image{}
		}
		images[stamp][msg.Topic] = &policy.Image{Width: int(im.Width), Height: int(im.Height), Step: int(im.Step),
			Encoding: im.Encoding, Data: append([]byte(nil), im.Data...)}
		if s, g := images[stamp]["/static_image"], images[stamp]["/gripper_image"]; s != nil && g != nil {
			steps = append(steps, parityStep{episode: ep, stamp: stamp,
				obs: policy.Observation{Static: s, Gripper: g, Instruction: instr}})
		}
	}
	return steps
}

// TestParityDeerTiny runs the trained tiny DeeR model through ONNX Runtime
// and the Go engine on the sample bag's first episodes and checks actions,
// distances and exit choices against PyTorch (max abs 1e-4), at full depth,
// with exit 1 alone and for several DeeR threshold sets.
func TestParityDeerTiny(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "models", "deer_tiny")
	data, err := os.ReadFile(filepath.Join(dir, "parity.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc parityDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	m, err := policy.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	steps := readParitySteps(t, filepath.Join(repoRoot(t), doc.Bag), doc.Episodes)
	if len(steps) != doc.Steps {
		t.Fatalf("%d steps in the first %d episodes of %s, parity.json has %d", len(steps), doc.Episodes, doc.Bag, doc.Steps)
	}
	for i, s := range steps {
		if s.stamp != doc.Stamps[i] {
			t.Fatalf("step %d: stamp %d, parity.json has %d", i, s.stamp, doc.Stamps[i])
		}
	}
	if len(doc.Runs) < 3 {
		t.Fatalf("parity.json has %d runs", len(doc.Runs))
	}
	var maxErr float64
	for _, run := range doc.Runs {
		t.Run(run.Name, func(t *testing.T) {
			s := policy.Settings{Thresholds: run.Thresholds, Metric: policy.MetricRMS}
			if run.MaxExit < len(m.Exits) {
				s.PeakGFLOPs = m.Exits[run.MaxExit-1].GFLOPs
			}
			e := newEngine(t, m, s, nil)
			for i := range steps {
				if i > 0 && steps[i].episode != steps[i-1].episode {
					e.Reset()
				}
				got, err := e.Step(&steps[i].obs)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				want := run.Results[i]
				if got.Exit != want.Exit {
					t.Fatalf("step %d: exit %d, want %d (distances %v, want %v)", i, got.Exit, want.Exit,
						got.Distances[:got.NumDistances], want.Distances)
				}
				check := func(what string, g, w float64) {
					d := g - w
					if d < 0 {
						d = -d
					}
					maxErr = max(maxErr, d)
					if d > doc.Tolerance {
						t.Fatalf("step %d: %s = %v, want %v", i, what, g, w)
					}
				}
				for k, p := range want.Pose {
					check("pose", float64(got.Action.Pose[k]), float64(p))
				}
				check("gripper prob", float64(got.Action.GripperProb), float64(want.GripperProb))
				if got.NumDistances != len(want.Distances) {
					t.Fatalf("step %d: %d distances, want %d", i, got.NumDistances, len(want.Distances))
				}
				for k, d := range want.Distances {
					check("distance", got.Distances[k], d)
				}
			}
		})
	}
	t.Logf("%d steps x %d runs, max abs difference %.3g", len(steps), len(doc.Runs), maxErr)
}
