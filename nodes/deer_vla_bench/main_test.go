package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/nodes/internal/simloop"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/sim"
)

// TestQuickBench runs the benchmark's short mode: one episode per family,
// every configuration, the shipped model and calibration.
func TestQuickBench(t *testing.T) {
	root := simloop.RepoRoot()
	lib := simloop.LibraryUnder(root)
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("ONNX Runtime not found (%v): run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH", err)
	}
	model := filepath.Join(root, "models", "deer_tiny")
	if _, err := os.Stat(filepath.Join(model, policy.CalibrationFile)); err != nil {
		t.Fatal(err)
	}
	// Both shipped calibrations: the default metric's and rms_gripper's.
	for _, c := range []struct {
		metric policy.Metric
		file   string
	}{{policy.MetricRMS, policy.CalibrationFile}, {policy.MetricRMSGripper, "calibration_rms_gripper.csv"}} {
		b := &bench{model: model, library: lib, threads: 1, episodes: 1, seed: 900000, tasks: sim.AllTasks[:],
			metric: c.metric, calibration: filepath.Join(model, c.file)}
		var out bytes.Buffer
		if err := b.run(&out, []float64{0.3}, 2); err != nil {
			t.Fatalf("%s: %v", c.metric, err)
		}
		for _, want := range []string{"full depth", "exit 1 only", "DeeR avg 0.30", "overall %"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: table lacks %q:\n%s", c.metric, want, out.String())
			}
		}
		t.Log("\n" + out.String())
	}
}
