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
	var o Overrides
	if err := o.AddFile(path); err != nil {
		t.Fatal(err)
	}
	// It applies in any namespace, since launch's namespace argument moves the node.
	for _, fqn := range []string{"/" + NodeName, "/robot1/" + NodeName} {
		vals, ignored, err := o.For(fqn)
		if err != nil || len(ignored) > 0 {
			t.Fatalf("%s: %v, ignored %v", fqn, err, ignored)
		}
		for _, d := range Descriptors {
			if d.Name == ParamUseSimTime {
				continue // set by launch, not by this file
			}
			v, ok := vals[d.Name]
			if !ok {
				t.Errorf("%s: %s is missing from %s", fqn, d.Name, path)
				continue
			}
			if v, err := coerce(v, d.Kind); err != nil || v.Format() != d.Default.Format() {
				t.Errorf("%s = %s in %s, default is %s", d.Name, v.Format(), path, d.Default.Format())
			}
		}
		if _, err := DefaultParams().With(vals, true); err != nil {
			t.Fatal(err)
		}
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

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Node names match as rclcpp matches them (rclcpp::parameter_map_from): a
// leading / is implied, /* is one level and /** any number of levels.
func TestParamsFileNodeNamesMatchLikeRcl(t *testing.T) {
	tests := []struct {
		key      string
		fqn      string
		applies  bool
		describe string
	}{
		{"deer_vla", "/deer_vla", true, "a plain name is the root namespace's node"},
		{"deer_vla", "/ns/deer_vla", false, "a plain name is not a namespaced node"},
		{"/deer_vla", "/deer_vla", true, ""},
		{"/ns/deer_vla", "/ns/deer_vla", true, ""},
		{"ns/deer_vla", "/ns/deer_vla", true, "the leading slash is implied"},
		{"/ns/deer_vla", "/deer_vla", false, ""},
		{"/ns/deer_vla", "/other/ns/deer_vla", false, "no partial match"},
		{"/**", "/deer_vla", true, ""},
		{"/**", "/a/b/deer_vla", true, ""},
		{"/**/deer_vla", "/deer_vla", true, ""},
		{"/**/deer_vla", "/a/b/deer_vla", true, ""},
		{"/**/deer_vla", "/a/b/policy", false, ""},
		{"/*", "/deer_vla", true, "one level"},
		{"/*", "/ns/deer_vla", false, "/* is one level only"},
		{"/ns/*", "/ns/deer_vla", true, ""},
		{"/ns/*", "/ns/a/deer_vla", false, ""},
		{"/*/deer_vla", "/ns/deer_vla", true, ""},
		{"/*/deer_vla", "/deer_vla", false, ""},
		{"deer", "/deer_vla", false, "no prefix match"},
	}
	for _, tc := range tests {
		path := writeFile(t, tc.key+":\n  ros__parameters:\n    exit.hold_steps: 3\n")
		vals, err := LoadParamsFile(path, tc.fqn)
		if err != nil {
			t.Fatalf("%s for %s: %v", tc.key, tc.fqn, err)
		}
		if _, got := vals[ParamHoldSteps]; got != tc.applies {
			t.Errorf("key %q applies to %s: %v, want %v %s", tc.key, tc.fqn, got, tc.applies, tc.describe)
		}
	}
}

// Nested node keys are namespaces, as in rcl's parser.
func TestParamsFileNestedNamespaces(t *testing.T) {
	path := writeFile(t, `
robot1:
  deer_vla:
    ros__parameters:
      exit.hold_steps: 4
  camera:
    ros__parameters:
      frames: [left, right]
`)
	vals, err := LoadParamsFile(path, "/robot1/deer_vla")
	if err != nil || vals[ParamHoldSteps].Int != 4 {
		t.Fatalf("nested key: %v, %v", vals, err)
	}
	if vals, _ := LoadParamsFile(path, "/deer_vla"); len(vals) != 0 {
		t.Fatalf("robot1/deer_vla applied to /deer_vla: %v", vals)
	}
}

// Entries apply in the order they first appear, later ones winning, with
// -p arguments in the "/**" entry: the order rclcpp gives them.
func TestOverridesApplyInRclOrder(t *testing.T) {
	specificFirst := writeFile(t, `
deer_vla:
  ros__parameters: {exit: {hold_steps: 2}}
/**:
  ros__parameters: {exit: {hold_steps: 1}}
`)
	tests := []struct {
		name  string
		args  []ParamSource
		whold int64
	}{
		{"a later /** entry wins over an earlier named one", []ParamSource{{File: specificFirst}}, 1},
		{"-p after the file replaces /** in place, the named entry stays", []ParamSource{{File: specificFirst}, {Param: "exit.hold_steps:=7"}}, 7},
		{"-p before the file opens /** first: the named entry follows it", []ParamSource{{Param: "exit.hold_steps:=7"}, {File: specificFirst}}, 2},
		{"-p with this node's name", []ParamSource{{File: specificFirst}, {Param: "deer_vla:exit.hold_steps:=9"}}, 1},
		{"-p with another node's name", []ParamSource{{Param: "camera:exit.hold_steps:=9"}}, 0},
	}
	for _, tc := range tests {
		p, _, err := RosArgs{NodeName: NodeName, Namespace: "/", Params: tc.args}.ParamValues()
		if err != nil || p.Int(ParamHoldSteps) != tc.whold {
			t.Errorf("%s: hold %d, %v; want %d", tc.name, p.Int(ParamHoldSteps), err, tc.whold)
		}
	}
}

// A robot's shared bringup file names other nodes' parameters, under /**
// too: the node skips them and says which, as long as its own are fine.
func TestUnknownOverridesAreIgnored(t *testing.T) {
	path := writeFile(t, `
/**:
  ros__parameters:
    use_sim_time: true
    qos_overrides:
      /tf:
        publisher: {depth: 10, reliability: reliable}
    frames: [map, odom]
    ratio: 1.5
deer_vla:
  ros__parameters:
    exit.metric: l2
    budget.avg: 1.0
camera:
  ros__parameters:
    mixed: [1, true, x]
    exit.hold_steps: lots
`)
	r := RosArgs{NodeName: NodeName, Namespace: "/", Params: []ParamSource{{File: path}, {Param: "typo_param:=3"}}}
	p, ignored, err := r.ParamValues()
	if err != nil {
		t.Fatal(err)
	}
	if !p.Bool(ParamUseSimTime) || p.Str(ParamMetric) != "l2" {
		t.Fatalf("known values not applied: sim %v metric %s", p.Bool(ParamUseSimTime), p.Str(ParamMetric))
	}
	// In rcl's order: -p joins the file's /** entry, before deer_vla's.
	want := []string{"qos_overrides./tf.publisher.depth", "qos_overrides./tf.publisher.reliability", "frames", "ratio", "typo_param", "budget.avg"}
	if len(ignored) != len(want) {
		t.Fatalf("ignored %v, want %v", ignored, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(ignored[i], w+" (") {
			t.Errorf("ignored[%d] = %q, want %s with where it came from", i, ignored[i], w)
		}
	}
	if !strings.Contains(ignored[5], "p.yaml:13") || !strings.Contains(ignored[4], "-p typo_param:=3") {
		t.Errorf("sources: %v", ignored)
	}
}

// A bad value of a parameter the node has stops it with where and why.
func TestBadOverridesOfTheNodesParameters(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"exit.hold_steps: lots", `p.yaml:3: parameter exit.hold_steps = "lots" rejected: expects an integer, got a string`},
		{"exit.thresholds: [1, true]", "p.yaml:3: parameter exit.thresholds: an array holds one type, this one mixes integer and bool values"},
		{"exit.thresholds: [[1]]", "not arrays or maps"},
		{"budget.avg_gflops: -1.0", "out of range: must be from 0 to 1000000"},
	}
	for _, tc := range tests {
		path := writeFile(t, "/**:\n  ros__parameters:\n    "+tc.yaml+"\n")
		_, _, err := RosArgs{NodeName: NodeName, Namespace: "/", Params: []ParamSource{{File: path}}}.ParamValues()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	for _, text := range []string{"deer_vla: 3\n", "ros__parameters: {a: 1}\n", "deer_vla:\n  ros__parameters: [1]\n", "/bad-name:\n  ros__parameters: {a: 1}\n"} {
		var o Overrides
		if err := o.AddFile(writeFile(t, text)); err == nil {
			t.Errorf("malformed file %q accepted", text)
		}
	}
}

// Values are typed as rcl types them.
func TestParamsFileTypesLikeRcl(t *testing.T) {
	path := writeFile(t, `
/**:
  ros__parameters:
    use_sim_time: "true"
    exit: {average_last_two: on, metric: l2, thresholds: [0.1, 1, -1]}
    budget: {avg_gflops: 2, window: 7}
`)
	vals, err := LoadParamsFile(path, "/deer_vla")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		kind Kind
		f    string
	}{
		{ParamUseSimTime, KindString, `"true"`}, // quoted: a string, which the bool parameter then refuses
		{ParamAverageLastTwo, KindBool, "true"},
		{ParamMetric, KindString, `"l2"`},
		{ParamThresholds, KindDoubleArray, "[0.1, 1, -1]"},
		{ParamAvgGFLOPs, KindInt, "2"},
		{ParamBudgetWindow, KindInt, "7"},
	}
	for _, c := range checks {
		if v := vals[c.name]; v.Kind != c.kind || v.Format() != c.f {
			t.Errorf("%s = %s (%s), want %s (%s)", c.name, v.Format(), v.Kind, c.f, c.kind)
		}
	}
	if _, err := DefaultParams().With(vals, true); err == nil || !strings.Contains(err.Error(), "use_sim_time") {
		t.Errorf("a quoted \"true\" for a bool: %v", err)
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
		{"exit.thresholds:=[1, 2]", ParamThresholds, "[1, 2]", KindIntArray},
		{"exit.thresholds:=[]", ParamThresholds, "[]", KindDoubleArray},
		{"exit.average_last_two:=true", ParamAverageLastTwo, "true", KindBool},
		{"exit.average_last_two:=yes", ParamAverageLastTwo, "true", KindBool},
		{"model.path:=", ParamModelPath, `""`, KindString},
		{"model.path:='7'", ParamModelPath, `"7"`, KindString},
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
	var o Overrides
	if err := o.AddArg("bad-node:x:=1"); err == nil {
		t.Error("-p with a malformed node name was accepted")
	}
	if len(o.entries) != 0 {
		t.Errorf("a refused -p left %d entries", len(o.entries))
	}
}
