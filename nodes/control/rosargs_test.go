package control

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseRosArgsAsLaunchPassesThem(t *testing.T) {
	dir := t.TempDir()
	// ros2 launch writes a temporary params file keyed by the node's full name.
	file := filepath.Join(dir, "launch_params.yaml")
	os.WriteFile(file, []byte("/robot1/policy:\n  ros__parameters:\n    budget.avg_gflops: 2.5\n    use_sim_time: true\n"), 0o644)
	args := []string{"--help-not-ros", "--ros-args", "-r", "__node:=policy", "-r", "__ns:=/robot1",
		"--params-file", file, "-p", "exit.metric:=l2", "--log-level", "info", "--", "extra"}
	r, err := ParseRosArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if r.FQN() != "/robot1/policy" || !slices.Equal(r.Rest, []string{"--help-not-ros", "extra"}) {
		t.Fatalf("parsed %+v", r)
	}
	if want := []ParamSource{{File: file}, {Param: "exit.metric:=l2"}}; !slices.Equal(r.Params, want) {
		t.Fatalf("params %v, want %v in command-line order", r.Params, want)
	}
	p, ignored, err := r.ParamValues()
	if err != nil || len(ignored) != 0 {
		t.Fatal(err, ignored)
	}
	if p.Double(ParamAvgGFLOPs) != 2.5 || !p.Bool(ParamUseSimTime) || p.Str(ParamMetric) != "l2" {
		t.Fatalf("params: avg %v sim %v metric %v", p.Double(ParamAvgGFLOPs), p.Bool(ParamUseSimTime), p.Str(ParamMetric))
	}
	if _, err := ParseRosArgs([]string{"--ros-args", "-p"}); err == nil {
		t.Fatal("-p without a value was accepted")
	}
	bad, _ := ParseRosArgs([]string{"--ros-args", "-p", "budget.avg_gflops:=-3"})
	if _, _, err := bad.ParamValues(); err == nil {
		t.Fatal("an out-of-range start-up value was accepted")
	}
}
