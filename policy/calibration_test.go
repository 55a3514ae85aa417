package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCalibrationRoundTrip(t *testing.T) {
	c := &Calibration{Model: "m", Metric: MetricCosine}
	for _, row := range [][]float64{{0.1, 0.05, 1e-9}, {0.3, 0.2, 0.1}} {
		if err := c.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Append([]float64{1}); err == nil {
		t.Fatal("a short row was accepted")
	}
	path := filepath.Join(t.TempDir(), CalibrationFile)
	if err := WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != "m" || got.Metric != MetricCosine || got.Steps() != 2 || got.Values[2][0] != 1e-9 || got.Values[0][1] != 0.3 {
		t.Fatalf("read back %+v", got)
	}
}

func TestCalibrationErrors(t *testing.T) {
	head := calibrationHeader + "\n# metric: rms\nexit_1,exit_2\n"
	tests := []struct{ name, text, want string }{
		{"no header", "exit_1\n0.1\n", "line 1"},
		{"no metric", calibrationHeader + "\nexit_1\n0.1\n", "metric"},
		{"bad metric", calibrationHeader + "\n# metric: manhattan\nexit_1\n0.1\n", "manhattan"},
		{"short row", head + "0.1\n", "line 4: 1 values, want 2"},
		{"negative", head + "0.1,-2\n", "line 4: column 2"},
		{"not a number", head + "0.1,abc\n", "line 4: column 2"},
		{"no steps", head, "no steps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), CalibrationFile)
			os.WriteFile(path, []byte(tc.text), 0o644)
			_, err := ReadCalibration(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one with %q and the path", err, tc.want)
			}
		})
	}
}

func TestReadModelCalibrations(t *testing.T) {
	dir := t.TempDir()
	if cals, err := ReadModelCalibrations(dir); err != nil || len(cals) != 0 {
		t.Fatalf("empty folder: %v, %v", cals, err)
	}
	write := func(name string, m Metric) {
		t.Helper()
		c := &Calibration{Model: "m", Metric: m}
		if err := c.Append([]float64{0.1, 0.2}); err != nil {
			t.Fatal(err)
		}
		if err := WriteCalibration(filepath.Join(dir, name), c); err != nil {
			t.Fatal(err)
		}
	}
	write(CalibrationFileFor(MetricRMS), MetricRMS)
	write(CalibrationFileFor(MetricCosine), MetricCosine)
	write("calibration_other.csv", MetricRMSGripper) // the header, not the name, gives the metric
	write("notes.csv", MetricL2)                     // not a calibration file name: not read
	cals, err := ReadModelCalibrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cals {
		got = append(got, c.Metric.String())
	}
	if strings.Join(got, " ") != "rms cosine rms_gripper" {
		t.Fatalf("read metrics %v, want calibration.csv first, then the others by name", got)
	}
	write("calibration_again.csv", MetricCosine)
	if _, err := ReadModelCalibrations(dir); err == nil || !strings.Contains(err.Error(), "both measured with metric cosine") {
		t.Fatalf("two cosine calibrations: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "calibration_again.csv"), []byte("garbage\n"), 0o644)
	if _, err := ReadModelCalibrations(dir); err == nil || !strings.Contains(err.Error(), "calibration_again.csv") {
		t.Fatalf("a corrupt calibration: %v", err)
	}
}
