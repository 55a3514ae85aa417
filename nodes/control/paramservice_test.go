package control

import (
	"slices"
	"strings"
	"testing"
)

func TestListParametersLikeRclcpp(t *testing.T) {
	n, _ := newTestNode(t)
	tests := []struct {
		name     string
		prefixes []string
		depth    uint64
		wnames   []string // subset that must be listed
		wnot     []string // must not be listed
		wparents []string
	}{
		{"all", nil, 0, []string{ParamAvgGFLOPs, ParamUseSimTime}, nil, []string{"budget", "exit", "model"}},
		{"depth 1: only top-level names", nil, 1, []string{ParamUseSimTime}, []string{ParamAvgGFLOPs}, nil},
		{"prefix", []string{"budget"}, 0, []string{ParamAvgGFLOPs, ParamPeakGFLOPs, ParamMemoryMB}, []string{ParamMetric, ParamUseSimTime}, []string{"budget"}},
		{"exact name", []string{ParamMetric}, 0, []string{ParamMetric}, []string{ParamHoldSteps}, []string{"exit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names, parents := n.ListParameters(tc.prefixes, tc.depth)
			for _, w := range tc.wnames {
				if !slices.Contains(names, w) {
					t.Errorf("%s not listed in %v", w, names)
				}
			}
			for _, w := range tc.wnot {
				if slices.Contains(names, w) {
					t.Errorf("%s listed", w)
				}
			}
			for _, w := range tc.wparents {
				if !slices.Contains(parents, w) {
					t.Errorf("prefix %s not in %v", w, parents)
				}
			}
		})
	}
}

func TestParameterServices(t *testing.T) {
	n, _ := newTestNode(t)
	vals := n.GetParameters([]string{ParamMetric, "nope"})
	if vals[0].String != "cosine" || vals[1].Kind != 0 {
		t.Fatalf("get: %+v", vals)
	}
	if k := n.GetParameterTypes([]string{ParamThresholds, "nope"}); k[0] != KindDoubleArray || k[1] != 0 {
		t.Fatalf("types: %v", k)
	}
	d := n.DescribeParameters([]string{ParamHoldSteps})[0]
	if d.Range == nil || d.Range.To != 1000 || d.Description == "" {
		t.Fatalf("describe: %+v", d)
	}
	res := n.SetParametersEach([]NamedValue{
		{ParamAvgGFLOPs, Int(7)},           // promoted, accepted by value checks; no calibration though
		{ParamHoldSteps, Int(2)},           // fine
		{ParamModelPath, String("/tmp/x")}, // read-only
		{ParamThresholds, Value{Kind: KindIntArray, Ints: []int64{-1, -1, -1, 0}}}, // integer array promoted
	})
	if res[0].Successful || !strings.Contains(res[0].Reason, "calibration") {
		t.Errorf("avg without calibration: %+v", res[0])
	}
	if !res[1].Successful || res[2].Successful || !res[3].Successful {
		t.Errorf("results %+v", res)
	}
	if n.Params().Int(ParamHoldSteps) != 2 || n.Engine().Plan().HoldSteps != 2 {
		t.Error("hold steps not applied")
	}
	if n.Engine().Plan().BudgetWindow != 500 {
		t.Errorf("budget window %d in the engine, want the default 500", n.Engine().Plan().BudgetWindow)
	}
	if r := n.SetParametersEach([]NamedValue{{ParamBudgetWindow, Int(50)}}); !r[0].Successful || n.Engine().Plan().BudgetWindow != 50 {
		t.Errorf("budget window 50: %+v, engine %d", r[0], n.Engine().Plan().BudgetWindow)
	}
	if r := n.SetParametersEach([]NamedValue{{ParamBudgetWindow, Int(-1)}}); r[0].Successful || n.Engine().Plan().BudgetWindow != 50 {
		t.Errorf("budget window -1: %+v, engine %d", r[0], n.Engine().Plan().BudgetWindow)
	}
	// Atomically: one bad value, nothing applied.
	r := n.SetParametersAtomically([]NamedValue{{ParamHoldSteps, Int(5)}, {ParamMetric, String("bogus")}})
	if r.Successful || n.Params().Int(ParamHoldSteps) != 2 {
		t.Errorf("atomic batch with a bad value: %+v, hold %d", r, n.Params().Int(ParamHoldSteps))
	}
	if r := n.SetParametersAtomically([]NamedValue{{ParamHoldSteps, Value{}}}); r.Successful {
		t.Error("undeclaring was accepted")
	}
}
