package policy

import (
	"math"
	"os"
	"path/filepath"
	"slices"
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
	head := calibrationHeader + "\n# model: m\n# metric: rms\nexit_1,exit_2\n"
	tests := []struct{ name, text, want string }{
		{"no header", "exit_1\n0.1\n", "line 1"},
		{"no metric", calibrationHeader + "\nexit_1\n0.1\n", "metric"},
		{"bad metric", calibrationHeader + "\n# metric: manhattan\nexit_1\n0.1\n", "manhattan"},
		{"short row", head + "0.1\n", "line 5: 1 values, want 2"},
		{"negative", head + "0.1,-2\n", "line 5: column 2"},
		{"not a number", head + "0.1,abc\n", "line 5: column 2"},
		{"infinite", head + "0.1,0.2\n+Inf,0.1\n", "line 6: column 1: \"+Inf\" is not a finite distance"},
		{"NaN", head + "0.1,NaN\n", "line 5: column 2"},
		{"no model", calibrationHeader + "\n# metric: rms\nexit_1\n0.1\n", "no '# model:' line"},
		{"too many columns", head[:len(head)-len("exit_1,exit_2\n")] + strings.Repeat("e,", MaxExits) + "e\n", "line 4: 17 columns"},
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

// A calibration measured with another model is refused, naming both models
// and the file: its distances say nothing about this model's exits.
func TestCalibrationModelMustMatchManifest(t *testing.T) {
	c := &Calibration{Model: "other_model", Metric: MetricRMS}
	for _, row := range [][]float64{{0.1, 0.05, 0.01}, {0.3, 0.2, 0.1}} {
		if err := c.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), CalibrationFile)
	if err := WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	read, err := ReadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	m := testManifest(3)
	m.Name = "this_model"
	_, err = newPlanner(m, []*Calibration{read})
	if err == nil || !strings.Contains(err.Error(), `"other_model"`) || !strings.Contains(err.Error(), `"this_model"`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming both models and the file", err)
	}
	m.Name = "other_model"
	if _, err := newPlanner(m, []*Calibration{read}); err != nil {
		t.Fatalf("matching model: %v", err)
	}
}

// FuzzCalibration parses any text as a calibration file: an error or a
// calibration whose distances are all finite and >= 0, with as many steps
// in every column, that writes and reads back the same.
func FuzzCalibration(f *testing.F) {
	for _, name := range []string{"calibration.csv", "calibration_cosine.csv"} {
		data, err := os.ReadFile(filepath.Join("..", "models", "tiny_test", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(calibrationHeader + "\n# model: m\n# metric: rms\nexit_1\n1e308\n+Inf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCalibration(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for i, col := range c.Values {
			if len(col) != c.Steps() {
				t.Fatalf("exit %d has %d steps, exit 1 has %d", i+1, len(col), c.Steps())
			}
			for s, v := range col {
				if !(v >= 0) || math.IsInf(v, 0) {
					t.Fatalf("exit %d step %d: distance %g", i+1, s, v)
				}
			}
		}
		var b strings.Builder
		if err := c.Write(&b); err != nil {
			t.Fatal(err)
		}
		again, err := parseCalibration(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("written calibration does not read back: %v\n%s", err, b.String())
		}
		if again.Model != c.Model || again.Metric != c.Metric || !slices.EqualFunc(again.Values, c.Values, slices.Equal) {
			t.Fatalf("round trip changed the calibration:\n%+v\n%+v", c, again)
		}
	})
}
