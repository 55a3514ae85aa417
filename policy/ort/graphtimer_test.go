package ort

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestTimeGraphRunsAStandaloneGraph(t *testing.T) {
	cfg := Config{Library: libraryPath(t), IntraOpThreads: 1}
	path := filepath.Join(tinyDir(t), "head.onnx")
	in := []GraphInput{{Name: "head_feature", Shape: []int64{1, 16}}, {Name: "h_in", Shape: []int64{1, 1, 16}}, {Name: "c_in", Shape: []int64{1, 1, 16}}}
	times, err := TimeGraph(cfg, path, in, []string{"pose", "h_out"}, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 {
		t.Fatalf("%d timed runs, want 3", len(times))
	}
	for i, d := range times {
		if d <= 0 {
			t.Errorf("run %d took %v", i, d)
		}
	}
}

func TestTimeGraphRejectsWrongInputs(t *testing.T) {
	cfg := Config{Library: libraryPath(t), IntraOpThreads: 1}
	path := filepath.Join(tinyDir(t), "head.onnx")
	cases := map[string][]GraphInput{
		"unknown input": {{Name: "feature", Shape: []int64{1, 16}}, {Name: "h_in", Shape: []int64{1, 1, 16}}, {Name: "c_in", Shape: []int64{1, 1, 16}}},
		"wrong shape":   {{Name: "head_feature", Shape: []int64{1, 17}}, {Name: "h_in", Shape: []int64{1, 1, 16}}, {Name: "c_in", Shape: []int64{1, 1, 16}}},
		"wrong type":    {{Name: "head_feature", Shape: []int64{1, 16}, Type: "int64"}, {Name: "h_in", Shape: []int64{1, 1, 16}}, {Name: "c_in", Shape: []int64{1, 1, 16}}},
	}
	for name, in := range cases {
		if _, err := TimeGraph(cfg, path, in, []string{"pose"}, 0, 1); err == nil || !strings.Contains(err.Error(), "head.onnx") {
			t.Errorf("%s: err %v, want an error naming the graph", name, err)
		}
	}
}
