package control

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// writeCalibration writes a calibration of metric m with steps rows to path.
func writeCalibration(t *testing.T, path string, m policy.Metric, exits, steps int) {
	t.Helper()
	c := &policy.Calibration{Model: "scripted", Metric: m}
	for s := range steps {
		row := make([]float64, exits)
		for i := range row {
			row[i] = float64((s*7+i*3)%steps) / float64(steps) / float64(i+1)
		}
		if err := c.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := policy.WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
}

// By default the node loads every calibration in the model folder, so the
// exit metric can be switched live under an average budget; a metric without
// a calibration is rejected with the reason and the old values stay.
func TestMetricSwitchesLiveBetweenTheModelsCalibrations(t *testing.T) {
	m := policytest.WriteModel(t, 4)
	writeCalibration(t, filepath.Join(m.Dir, policy.CalibrationFileFor(policy.MetricRMS)), policy.MetricRMS, 4, 100)
	writeCalibration(t, filepath.Join(m.Dir, policy.CalibrationFileFor(policy.MetricCosine)), policy.MetricCosine, 4, 100)
	cals, err := loadCalibrations(DefaultParams(), m.Dir)
	if err != nil || len(cals) != 2 {
		t.Fatalf("loaded %d calibrations, %v; want the folder's two", len(cals), err)
	}
	n, _ := newNodeOn(t, m, cals)
	eng := n.Engine()
	for _, metric := range []string{"rms", "cosine", "rms"} {
		if err := n.SetParams(map[string]Value{ParamAvgGFLOPs: Double(2.5), ParamMetric: String(metric)}); err != nil {
			t.Fatalf("metric %s under an average budget: %v", metric, err)
		}
		if got := eng.Plan().Metric.String(); got != metric {
			t.Fatalf("engine metric %s, want %s", got, metric)
		}
	}
	err = n.SetParams(map[string]Value{ParamMetric: String("l2")})
	if err == nil || !strings.Contains(err.Error(), "no calibration measured with metric l2") {
		t.Fatalf("l2 without a calibration: %v", err)
	}
	if n.Params().Str(ParamMetric) != "rms" || eng.Plan().Metric != policy.MetricRMS {
		t.Fatal("a rejected metric changed the parameters or the engine")
	}

	// model.calibration names the one file to use.
	p, err := DefaultParams().With(map[string]Value{ParamCalibration: String(filepath.Join(m.Dir, "calibration_cosine.csv"))}, true)
	if err != nil {
		t.Fatal(err)
	}
	if cals, err := loadCalibrations(p, m.Dir); err != nil || len(cals) != 1 || cals[0].Metric != policy.MetricCosine {
		t.Fatalf("model.calibration: %d calibrations, %v", len(cals), err)
	}
}

// Diagnostics report the budget the thresholds are solved for once the
// budget window corrects it: the scripted model's exits always agree, so
// every step exits at exit 1 (1 GFLOPs), and the window raises the budget
// solved for above the 2.5 asked.
func TestDiagnosticsShowTheBudgetWindowsCorrection(t *testing.T) {
	m := policytest.WriteModel(t, 4)
	writeCalibration(t, filepath.Join(m.Dir, policy.CalibrationFileFor(policy.MetricCosine)), policy.MetricCosine, 4, 100)
	cals, err := loadCalibrations(DefaultParams(), m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := newNodeOn(t, m, cals)
	if err := n.SetParams(map[string]Value{ParamAvgGFLOPs: Double(2.5), ParamBudgetWindow: Int(20)}); err != nil {
		t.Fatal(err)
	}
	solved := func() float64 {
		for _, kv := range n.Diagnostics().Values {
			if kv.Key == "thresholds solved for avg GFLOPs" {
				v, err := strconv.ParseFloat(kv.Value, 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
		t.Fatal("no 'thresholds solved for avg GFLOPs' in the diagnostics")
		return 0
	}
	l := n.Loop()
	l.OnInstruction("move")
	for i := range 60 {
		stamp := int64(time.Hour) + int64(i)*int64(time.Second)
		l.OnStaticImage(rgbImage(stamp, 1))
		if _, _, err := l.Tick(stamp); err != nil {
			t.Fatal(err)
		}
		if i == 0 && solved() != 2.5 {
			t.Fatalf("first step solved for %v, want the budget 2.5", solved())
		}
	}
	if got := solved(); got <= 2.5 || got > 4 {
		t.Fatalf("after 60 steps at exit 1: solved for %v, want between the budget 2.5 and full depth's 4", got)
	}
}
