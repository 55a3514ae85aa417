package control

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkAccepted applies values to the defaults as at start-up: it may
// reject them, but what it accepts must be within the descriptors'
// ranges, finite, and usable to build the engine's settings.
func checkAccepted(t *testing.T, values map[string]Value) {
	p, err := DefaultParams().With(values, true)
	if err != nil {
		return
	}
	for name := range values {
		v, _ := p.Get(name)
		d, _ := Describe(name)
		if v.Kind != d.Kind {
			t.Fatalf("%s accepted as a %s, its descriptor says %s", name, v.Kind, d.Kind)
		}
		nums := v.Doubles
		if v.Kind == KindDouble {
			nums = []float64{v.Double}
		}
		for _, x := range nums {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%s accepted %s", name, v.Format())
			}
			if d.Range != nil && (x < d.Range.From || x > d.Range.To) {
				t.Fatalf("%s accepted %s outside [%g, %g]", name, v.Format(), d.Range.From, d.Range.To)
			}
		}
	}
	p.Settings()
	p.Period()
}

// FuzzParseParamArg parses any `-p name:=value` argument, and applies
// what parses.
func FuzzParseParamArg(f *testing.F) {
	for _, s := range []string{"budget.avg_gflops:=2.5", "exit.thresholds:=[0.1, 1e400]", "exit.metric:=rms",
		"control.rate_hz:=.nan", "input.max_age_ms:=-1", "exit.hold_steps:=99999999999999999999", "x:=", ":=1", "a:=[1, [2]]", "a:=# c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		name, v, err := ParseParamArg(arg)
		if err != nil {
			return
		}
		checkAccepted(t, map[string]Value{name: v})
	})
}

// FuzzLoadParamsFile reads any text as a --params-file, and applies what
// it reads.
func FuzzLoadParamsFile(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "params", "deer_vla.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("/**:\n  ros__parameters:\n    budget: {avg_gflops: .inf}\n    exit: {thresholds: [1, -.nan]}\n"))
	f.Add([]byte("deer_vla: {ros__parameters: 5}\n"))
	path := filepath.Join(f.TempDir(), "params.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		values, err := LoadParamsFile(path, "/deer_vla")
		if err != nil {
			return
		}
		checkAccepted(t, values)
	})
}

func TestParamsFileSizeLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "params.yaml")
	text := "deer_vla:\n  ros__parameters:\n    exit: {metric: rms}\n# " + strings.Repeat("x", MaxParamsFileBytes) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadParamsFile(path, "/deer_vla"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("LoadParamsFile = %v, want the size limit", err)
	}
	if err := os.WriteFile(path, []byte(text[:100]), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := LoadParamsFile(path, "/deer_vla"); err != nil || v[ParamMetric].String != "rms" {
		t.Fatalf("a small file: %v, %v", v, err)
	}
}
