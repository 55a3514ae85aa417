package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/nodes/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

// -h prints what the tool does, its synopsis and its flags under the
// names the tools share; bad flags exit 2 with the reason.
func TestUsageAndBadFlags(t *testing.T) {
	clitest.Usage(t, []string{"usage: deer_vla_demos [flags]", "Records demonstrations", "-model DIR", "-ort-lib PATH", "-out DIR", "Exit status"},
		[]string{"-policy", "  -lib string"})
	clitest.Check(t, []clitest.Case{
		{Args: []string{"-policy", "x"}, Status: 2, Stderr: "flag provided but not defined: -policy"},
		{Args: []string{"-budget", "0.3", "-exit", "2"}, Status: 2, Stderr: "-budget and -exit exclude each other"},
		{Args: []string{"-episodes", "0"}, Status: 2, Stderr: "-episodes must be >= 1"},
		{Args: []string{"-tasks", "juggle"}, Status: 2, Stderr: "juggle"},
		{Args: []string{"stray"}, Status: 2, Stderr: "unexpected arguments"},
		{Args: []string{"-remap", "/camera:=/x"}, Status: 2, Stderr: "no topic /camera to remap"},
	})
}

// -remap records the topics under the names given, as the replay reads
// them with the same -remap.
func TestRecordRemapped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if _, stderr, status := clitest.Run(t, "-out", dir, "-episodes", "1", "-remap", "static_image:=/cam/front/image_raw", "-remap", "/expert_action:=/teleop/action"); status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	r, err := bag.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, ti := range r.Topics() {
		names = append(names, ti.Name)
	}
	want := []string{"/instruction", "/cam/front/image_raw", "/gripper_image", "/teleop/action"}
	if !slices.Equal(names, want) {
		t.Fatalf("topics %q, want %q", names, want)
	}
}
