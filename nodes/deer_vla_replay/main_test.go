package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/replay"
)

const (
	sampleBag = "../../test/bags/sample_demo"
	model     = "../../models/deer_tiny"
)

func replayCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(args, &o, &e)
	return o.String(), e.String(), err
}

// -h prints what the tool does, its synopsis, its flags (the shared
// names), the exit statuses and the parameter table.
func TestUsage(t *testing.T) {
	_, stderr, err := replayCmd(t, "-h")
	if !errors.Is(err, flag.ErrHelp) || exitCode(err) != cli.ExitOK {
		t.Fatalf("-h: %v", err)
	}
	for _, s := range []string{"usage: deer_vla_replay [flags] BAG", "Replays BAG", "-model DIR", "-params FILE", "-p name:=value", "-remap from:=to", "-out PATH", "-ort-lib PATH",
		"Exit status:", "3  no step ran", "4  steps ran, and every one failed", "budget.avg_gflops"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("usage lacks %q:\n%s", s, stderr)
		}
	}
}

// The exit status says whether an action came out, and why not.
func TestExitStatus(t *testing.T) {
	out := filepath.Join(t.TempDir(), "replayed.mcap")
	stdout, _, err := replayCmd(t, "-model", model, "-p", "budget.avg_gflops:=0.001", "-out", out, sampleBag)
	if code := exitCode(err); code != cli.ExitOK {
		t.Fatalf("sample bag: status %d, %v\n%s", code, err, stdout)
	}
	if fi, err := os.Stat(out); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("-out %s did not write that file: %v", out, err)
	}
	for _, s := range []string{"actions                  198", "images without action    none", "output bag: " + out} {
		if !strings.Contains(stdout, s) {
			t.Errorf("report lacks %q:\n%s", s, stdout)
		}
	}

	// The gripper camera read from a topic the bag does not have.
	stdout, _, err = replayCmd(t, "-model", model, "-remap", "gripper_image:=/cam/wrist", sampleBag)
	if !errors.Is(err, replay.ErrNoStep) || exitCode(err) != exitNoStep {
		t.Fatalf("missing gripper topic: %v (status %d)", err, exitCode(err))
	}
	if !strings.Contains(stdout, "/cam/wrist (sensor_msgs/msg/Image)") || !strings.Contains(stdout, "-remap /gripper_image:=TOPIC") {
		t.Errorf("report does not name the missing topic and the remap:\n%s", stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-no-such-flag", sampleBag}, cli.ExitUsage},
		{[]string{}, cli.ExitUsage},
		{[]string{"-remap", "/camera:=/x", sampleBag}, cli.ExitUsage},
		{[]string{"-remap", "no-separator", sampleBag}, cli.ExitUsage},
		{[]string{"-p", "budget.avg_gflops:=-1", sampleBag}, cli.ExitUsage},
		{[]string{"-model", model, filepath.Join(t.TempDir(), "no_bag")}, cli.ExitError},
		{[]string{"-model", model, "-out", out, sampleBag}, cli.ExitError}, // exists
	} {
		_, _, err := replayCmd(t, tc.args...)
		if code := exitCode(err); code != tc.code {
			t.Errorf("%q: status %d (%v), want %d", tc.args, code, err, tc.code)
		}
	}
}
