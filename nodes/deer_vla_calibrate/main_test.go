package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/nodes/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

// -h prints what the tool does, its synopsis, its flags under the names
// the tools share and the parameter table; bad input exits with the
// reason.
func TestUsageAndErrors(t *testing.T) {
	clitest.Usage(t, []string{"usage: deer_vla_calibrate [flags] BAG...", "Runs the model at full depth", "-model DIR", "-ort-lib PATH",
		"-params FILE", "-p name:=value", "-remap from:=to", "-out FILE", "Exit status", "exit.metric"}, nil)
	model := "../../models/tiny_test"
	clitest.Check(t, []clitest.Case{
		{Args: []string{"-model", model}, Status: 2, Stderr: "give at least one demonstration bag"},
		{Args: []string{"-remap", "/camera:=/x", "bag"}, Status: 2, Stderr: "the topics: /static_image"},
		// The gripper camera remapped away: no step, named as such.
		{Args: []string{"-model", model, "-out", filepath.Join(t.TempDir(), "cal.csv"), "-remap", "/gripper_image:=/none", "../../test/bags/sample_demo"},
			Status: 1, Stderr: "no step ran: the model needs the gripper camera"},
	})
}

// Calibrating from a bag with other topic names works once remapped.
func TestCalibrateRemapped(t *testing.T) {
	bagPath := renamedBag(t, "../../test/bags/sample_demo", map[string]string{"/static_image": "/cam/front", "/gripper_image": "/cam/wrist", "/instruction": "/task"})
	out := filepath.Join(t.TempDir(), "cal.csv")
	model := "../../models/deer_tiny"
	if _, stderr, status := clitest.Run(t, "-model", model, "-out", out, bagPath); status != 1 || !strings.Contains(stderr, "-remap /static_image:=TOPIC") {
		t.Fatalf("without remaps: status %d, %s", status, stderr)
	}
	stdout, stderr, status := clitest.Run(t, "-model", model, "-out", out,
		"-remap", "static_image:=/cam/front", "-remap", "gripper_image:=/cam/wrist", "-remap", "instruction:=/task", bagPath)
	if status != 0 {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	if data, err := os.ReadFile(out); err != nil || !strings.Contains(stdout, ": 198 steps") || len(data) == 0 {
		t.Fatalf("%v\n%s", err, stdout)
	}
}

// renamedBag copies a bag with its topics renamed.
func renamedBag(t *testing.T, src string, names map[string]string) string {
	t.Helper()
	r, err := bag.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dst := filepath.Join(t.TempDir(), "renamed.mcap")
	w, err := bag.CreateFile(dst, bag.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rename := func(n string) string {
		if to, ok := names[n]; ok {
			return to
		}
		return n
	}
	for _, ti := range r.Topics() {
		if err := w.AddTopic(rename(ti.Name), ti.Type, bag.QoS{}); err != nil {
			t.Fatal(err)
		}
	}
	var m bag.Message
	for {
		err := r.Next(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rename(m.Topic), m.LogTimeNanos, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}
