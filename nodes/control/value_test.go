package control

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// `ros2 param set /deer_vla exit.thresholds "[]"` sends an empty bool array
// (the CLI cannot type an empty list): any empty array clears the
// thresholds, and the node is back in budget mode.
func TestEmptyArrayOfAnyTypeClearsThresholds(t *testing.T) {
	m := policytest.WriteModel(t, 4)
	writeCalibration(t, filepath.Join(m.Dir, policy.CalibrationFile), policy.MetricCosine, 4, 100)
	cals, err := loadCalibrations(DefaultParams(), m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := newNodeOn(t, m, cals)
	if r := n.SetParametersEach([]NamedValue{{ParamAvgGFLOPs, Double(2.5)}}); !r[0].Successful {
		t.Fatal(r[0].Reason)
	}
	for _, empty := range []Value{{Kind: KindBoolArray}, {Kind: KindByteArray}, {Kind: KindIntArray},
		{Kind: KindDoubleArray}, {Kind: KindStringArray}} {
		set := n.SetParametersEach([]NamedValue{{ParamThresholds, Doubles([]float64{-1, -1, -1, 0})}})
		if !set[0].Successful || !math.IsNaN(n.Engine().Plan().LogQ) {
			t.Fatalf("explicit thresholds: %+v, log q %v", set[0], n.Engine().Plan().LogQ)
		}
		r := n.SetParametersEach([]NamedValue{{ParamThresholds, empty}})
		if !r[0].Successful {
			t.Fatalf("empty %s refused: %s", empty.Kind, r[0].Reason)
		}
		if th := n.Params().DoubleArray(ParamThresholds); len(th) != 0 {
			t.Fatalf("thresholds %v after an empty %s", th, empty.Kind)
		}
		if math.IsNaN(n.Engine().Plan().LogQ) {
			t.Fatalf("an empty %s did not return the engine to the average budget", empty.Kind)
		}
	}
	// A non-empty array of another type is still refused, in plain words.
	r := n.SetParametersEach([]NamedValue{{ParamThresholds, Value{Kind: KindBoolArray, Bools: []bool{true}}}})
	if want := "parameter exit.thresholds = [true] rejected: expects a double array, got a bool array"; r[0].Successful || r[0].Reason != want {
		t.Errorf("bool array: %q, want %q", r[0].Reason, want)
	}
}

// Every reason a set can be refused for reads as plain English: no Go
// type names, no "a integer".
func TestParameterErrorsSpeakPlainly(t *testing.T) {
	n, _ := newTestNode(t)
	tests := []struct {
		change NamedValue
		want   string
	}{
		{NamedValue{ParamHoldSteps, String("3")}, `parameter exit.hold_steps = "3" rejected: expects an integer, got a string`},
		{NamedValue{ParamAverageLastTwo, Int(1)}, "parameter exit.average_last_two = 1 rejected: expects a bool, got an integer"},
		{NamedValue{ParamMetric, Value{Kind: KindStringArray, Strings: []string{"l2"}}}, `parameter exit.metric = ["l2"] rejected: expects a string, got a string array`},
		{NamedValue{ParamAvgGFLOPs, Value{Kind: 42}}, "parameter budget.avg_gflops = (not set) rejected: expects a double, got an unknown type 42"},
		{NamedValue{ParamHoldSteps, Value{}}, "parameter exit.hold_steps cannot be deleted: this node declares every parameter it has, each with a value"},
		{NamedValue{"budget.avg", Double(1)}, "parameter budget.avg = 1 rejected: this node has no such parameter"},
		{NamedValue{ParamThresholds, Doubles([]float64{1})}, "parameter exit.thresholds = [1] rejected: want one threshold per exit (4 exits), got 1"},
		{NamedValue{ParamPeakGFLOPs, Double(1e7)}, "parameter budget.peak_gflops = 1e+07 rejected: out of range: must be from 0 to 1000000"},
	}
	for _, tc := range tests {
		r := n.SetParametersEach([]NamedValue{tc.change})[0]
		if r.Successful || r.Reason != tc.want {
			t.Errorf("%s: %q\n  want %q", tc.change.Name, r.Reason, tc.want)
		}
		for _, bad := range []string{"Kind(", "a integer", "a array", "policy:", "control:"} {
			if strings.Contains(r.Reason, bad) {
				t.Errorf("%q contains %q", r.Reason, bad)
			}
		}
	}
}

// `ros2 param load` of a `ros2 param dump` sets every parameter, read-only
// ones included, to the value it has: that succeeds; another value for a
// read-only parameter is still refused.
func TestReadOnlyParameterTakesItsOwnValue(t *testing.T) {
	n, _ := newTestNode(t)
	if r := n.SetParametersEach([]NamedValue{{ParamProvider, String("cpu")}, {ParamStatsWindow, Int(200)}}); !r[0].Successful || !r[1].Successful {
		t.Fatalf("read-only parameters set to their values: %+v", r)
	}
	r := n.SetParametersEach([]NamedValue{{ParamProvider, String("cuda")}})
	if r[0].Successful || !strings.Contains(r[0].Reason, "read-only") {
		t.Fatalf("read-only provider changed: %+v", r[0])
	}
}

// use_sim_time changes live, as in rclcpp nodes.
func TestUseSimTimeIsLive(t *testing.T) {
	n, _ := newTestNode(t)
	if r := n.SetParametersEach([]NamedValue{{ParamUseSimTime, Bool(true)}}); !r[0].Successful || !n.Params().Bool(ParamUseSimTime) {
		t.Fatalf("use_sim_time true: %+v", r[0])
	}
	if d, _ := Describe(ParamUseSimTime); d.ReadOnly {
		t.Fatal("use_sim_time is described as read-only")
	}
	c := NewClock(false)
	c.OnClock(7e9) // taken under wall time too
	c.SetSim(true)
	if !c.Sim() || c.Now() != 7e9 {
		t.Fatalf("after SetSim(true): sim %v, now %d", c.Sim(), c.Now())
	}
	c.SetSim(false)
	if c.Sim() || c.Now() == 7e9 {
		t.Fatal("SetSim(false) did not return to wall time")
	}
}

// After start-up the node shows what it opened instead of the empty
// defaults, which Humble's ros2 param load cannot send back; and a dumped
// calibration folder opens the same calibrations.
func TestResolveFillsTheEmptyPaths(t *testing.T) {
	m := policytest.WriteModel(t, 4)
	writeCalibration(t, filepath.Join(m.Dir, policy.CalibrationFileFor(policy.MetricRMS)), policy.MetricRMS, 4, 100)
	lib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := DefaultParams().With(map[string]Value{ParamModelPath: String(m.Dir)}, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Environment{ORTLibrary: lib}.Resolve(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Str(ParamModelPath) != m.Dir || r.Str(ParamCalibration) != m.Dir || r.Str(ParamLibrary) != lib {
		t.Fatalf("resolved model %q calibration %q library %q", r.Str(ParamModelPath), r.Str(ParamCalibration), r.Str(ParamLibrary))
	}
	for _, d := range Descriptors {
		if v, _ := r.Get(d.Name); v.Kind == KindString && v.String == "" {
			t.Errorf("%s is still empty", d.Name)
		}
	}
	cals, err := loadCalibrations(r, m.Dir)
	if err != nil || len(cals) != 1 || cals[0].Metric != policy.MetricRMS {
		t.Fatalf("calibration folder: %d, %v", len(cals), err)
	}
	// An explicit calibration stays as given.
	p, _ = p.With(map[string]Value{ParamCalibration: String("/x/cal.csv")}, true)
	if r, _ := (Environment{ORTLibrary: lib}).Resolve(p); r.Str(ParamCalibration) != "/x/cal.csv" {
		t.Fatalf("explicit calibration became %q", r.Str(ParamCalibration))
	}
	if _, err := (Environment{}).Resolve(DefaultParams()); err == nil {
		t.Fatal("no model anywhere was resolved")
	}
}
