package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped params file sets exactly the node's parameters, with their
// defaults, so the YAML, the descriptors and the README cannot drift.
func TestShippedParamsFileMatchesDescriptors(t *testing.T) {
	path := filepath.Join("..", "..", "params", "deer_vla.yaml")
	vals, err := LoadParamsFile(path, "/"+NodeName)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Descriptors {
		if d.Name == ParamUseSimTime {
			continue // set by launch, not by this file
		}
		v, ok := vals[d.Name]
		if !ok {
			t.Errorf("%s is missing from %s", d.Name, path)
			continue
		}
		if v, err := coerce(v, d.Kind); err != nil || v.Format() != d.Default.Format() {
			t.Errorf("%s = %s in %s, default is %s", d.Name, v.Format(), path, d.Default.Format())
		}
	}
	if _, err := DefaultParams().With(vals, true); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Descriptors {
		if !strings.Contains(string(readme), d.Name) {
			t.Errorf("README.md does not document %s", d.Name)
		}
	}
}

func TestParamsFileKeysAndTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(path, []byte(`
/**:
  ros__parameters:
    use_sim_time: yes
    budget: {avg_gflops: 2}
deer_vla:
  ros__parameters:
    exit.metric: l2
/robot1/deer_vla:
  ros__parameters:
    budget:
      avg_gflops: 3.5
    exit:
      thresholds: [0.1, 1, -1]
other_node:
  ros__parameters:
    budget.avg_gflops: 99.0
`), 0o644)
	vals, err := LoadParamsFile(path, "/robot1/deer_vla")
	if err != nil {
		t.Fatal(err)
	}
	if v := vals[ParamAvgGFLOPs]; v.Kind != KindDouble || v.Double != 3.5 {
		t.Errorf("avg %v: the fully qualified key must win", v.Format())
	}
	if v := vals[ParamUseSimTime]; v.Kind != KindBool || !v.Bool {
		t.Errorf("use_sim_time %v: yes must read as true", v.Format())
	}
	if v := vals[ParamMetric]; v.String != "l2" {
		t.Errorf("metric %v", v.Format())
	}
	if v := vals[ParamThresholds]; len(v.Doubles) != 3 || v.Doubles[2] != -1 {
		t.Errorf("thresholds %v", v.Format())
	}
	vals, _ = LoadParamsFile(path, "/deer_vla")
	if v := vals[ParamAvgGFLOPs]; v.Kind != KindInt || v.Int != 2 {
		t.Errorf("in the root namespace avg is %v, want the /** integer 2", v.Format())
	}
	os.WriteFile(path, []byte("deer_vla:\n  ros__parameters:\n    budget.avg: 1.0\n"), 0o644)
	if _, err := LoadParamsFile(path, "/deer_vla"); err == nil || !strings.Contains(err.Error(), "no such parameter") {
		t.Fatalf("unknown parameter: %v", err)
	}
}

func TestParseParamArg(t *testing.T) {
	tests := []struct {
		arg, wname, wval string
		wkind            Kind
	}{
		{"budget.avg_gflops:=7", ParamAvgGFLOPs, "7", KindInt},
		{"budget.avg_gflops:=7.5", ParamAvgGFLOPs, "7.5", KindDouble},
		{"exit.metric:=l2", ParamMetric, `"l2"`, KindString},
		{"exit.thresholds:=[0.1, 2]", ParamThresholds, "[0.1, 2]", KindDoubleArray},
		{"exit.average_last_two:=true", ParamAverageLastTwo, "true", KindBool},
		{"model.path:=", ParamModelPath, `""`, KindString},
	}
	for _, tc := range tests {
		name, v, err := ParseParamArg(tc.arg)
		if err != nil || name != tc.wname || v.Kind != tc.wkind || v.Format() != tc.wval {
			t.Errorf("%s: %s %s (%v), %v", tc.arg, name, v.Format(), v.Kind, err)
		}
	}
	if _, _, err := ParseParamArg("budget.avg_gflops=7"); err == nil {
		t.Error("name=value without := was accepted")
	}
}
