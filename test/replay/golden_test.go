// Package replay_test replays the shipped sample bags through the node's
// control loop and compares the result with committed golden outputs, so
// any change to the method, the model or preprocessing shows up as a diff
// that someone must approve by regenerating the goldens:
//
//	go test ./test/replay -update   # then review git diff test/replay/testdata
package replay_test

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/replay"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// actionTolerance is how far an action value may move before the golden
// fails: ONNX Runtime builds may differ in the last float bits.
const actionTolerance = 1e-5

func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cases are the shipped bags and configurations under regression test.
var cases = []struct {
	name, bag string
	params    []string // -p style overrides on params/deer_vla.yaml
}{
	{"sample_demo_full_depth", "test/bags/sample_demo", nil},
	{"sample_demo_avg_budget", "test/bags/sample_demo", []string{"budget.avg_gflops:=0.001"}},
	{"sample_demo_avg_budget_rms", "test/bags/sample_demo", []string{"budget.avg_gflops:=0.001", "exit.metric:=rms"}},
	{"sample_demo_peak_and_hold", "test/bags/sample_demo", []string{"budget.avg_gflops:=0.0009", "budget.peak_gflops:=0.002", "exit.hold_steps:=2"}},
}

func TestSampleBagsAgainstGoldens(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := replayLines(t, tc.bag, tc.params)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readLines(t, path)
			if len(got) != len(want) {
				t.Fatalf("%d actions, golden has %d (rerun with -update if the change is intended)", len(got), len(want))
			}
			for i := range want {
				if err := compareLine(got[i], want[i]); err != nil {
					t.Fatalf("action %d: %v\n got: %s\nwant: %s\n(rerun with -update if the change is intended)", i, err, got[i], want[i])
				}
			}
		})
	}
}

// replayLines replays a bag and renders one line per action:
// stamp_ns exit pose0..pose5 gripper_probability.
func replayLines(t *testing.T, bagPath string, overrides []string) []string {
	t.Helper()
	changes := map[string]control.Value{}
	for _, o := range overrides {
		name, v, err := control.ParseParamArg(o)
		if err != nil {
			t.Fatal(err)
		}
		changes[name] = v
	}
	p, env := shippedParams(t, changes)
	eng, err := control.OpenEngine(p, env)
	var lines []string
	rep := replayOn(t, eng, err, p, bagPath, func(o *control.Output) {
		a := &o.Action
		var b strings.Builder
		fmt.Fprintf(&b, "%d %d", a.Header.Stamp.Nanos(), a.ExitIndex)
		for _, v := range a.PoseDelta {
			fmt.Fprintf(&b, " %.7g", v)
		}
		fmt.Fprintf(&b, " %.7g", a.GripperProbability)
		lines = append(lines, b.String())
	})
	if rep.Malformed != 0 || rep.StepErrors != 0 || len(lines) == 0 {
		t.Fatalf("replay: %d malformed, %d failed steps, %d actions\n%s", rep.Malformed, rep.StepErrors, len(lines), rep.Text())
	}
	return lines
}

// replayOn replays a bag through a node with parameters p over eng (and
// fails on openErr, the error of opening eng), then closes eng.
func replayOn(t *testing.T, eng *policy.Engine, openErr error, p control.Params, bagPath string, onStep func(*control.Output)) *replay.Report {
	t.Helper()
	if openErr != nil {
		t.Fatal(openErr)
	}
	defer eng.Close()
	node, err := control.NewNode(eng, p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := replay.Run(replay.Config{Bag: filepath.Join(root(), bagPath), Params: p}, node, onStep)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// shippedParams are params/deer_vla.yaml's on the shipped model, with
// changes, and the environment that finds the model and ONNX Runtime.
func shippedParams(t *testing.T, changes map[string]control.Value) (control.Params, control.Environment) {
	t.Helper()
	vals, err := control.LoadParamsFile(filepath.Join(root(), "params", "deer_vla.yaml"), "/"+control.NodeName)
	if err != nil {
		t.Fatal(err)
	}
	vals[control.ParamModelPath] = control.String(filepath.Join(root(), "models", control.DefaultModel))
	for k, v := range changes {
		vals[k] = v
	}
	p, err := control.DefaultParams().With(vals, true)
	if err != nil {
		t.Fatal(err)
	}
	env := control.ProcessEnvironment()
	env.SearchDirs = append(env.SearchDirs, root())
	return p, env
}

// compareLine checks stamp and exit exactly and the action values within
// actionTolerance.
func compareLine(got, want string) error {
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != len(w) || len(w) < 2 {
		return fmt.Errorf("malformed line")
	}
	if g[0] != w[0] {
		return fmt.Errorf("stamp %s, want %s", g[0], w[0])
	}
	if g[1] != w[1] {
		return fmt.Errorf("exit %s, want %s", g[1], w[1])
	}
	for i := 2; i < len(w); i++ {
		var a, b float64
		fmt.Sscan(g[i], &a)
		fmt.Sscan(w[i], &b)
		if math.Abs(a-b) > actionTolerance {
			return fmt.Errorf("value %d: %v, want %v", i-2, a, b)
		}
	}
	return nil
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
