package simloop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/sim"
)

func TestObservationAndAction(t *testing.T) {
	env, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	obs := env.Reset(5, sim.TaskPlace)
	o := Observation(&obs)
	if o.Instruction != obs.Instruction || o.Static.Encoding != "rgb8" || o.Gripper.Encoding != "rgb8" ||
		o.Static.Width != sim.StaticSize || o.Static.Height != sim.StaticSize ||
		o.Gripper.Width != sim.GripperSize || o.Gripper.Height != sim.GripperSize ||
		&o.Static.Data[0] != &obs.Static[0] || &o.Gripper.Data[0] != &obs.Gripper[0] {
		t.Fatalf("observation %+v", o)
	}
	a := policy.Action{Pose: [6]float32{0.1, -0.2, 0.3, 0, 0, -0.5}, Gripper: -1, GripperProb: 0.2}
	if got := Action(a); got.Pose != a.Pose || got.Gripper != -1 {
		t.Fatalf("action %+v", got)
	}
}

func TestOpenEngineErrors(t *testing.T) {
	_, err := OpenEngine(filepath.Join(t.TempDir(), "missing"), DefaultLibrary(), 1, policy.Settings{}, nil)
	if err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Fatalf("missing model folder: %v", err)
	}
}

func TestDefaultLibraryFollowsEnvironment(t *testing.T) {
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", "/opt/ort/libonnxruntime.so")
	if got := DefaultLibrary(); got != "/opt/ort/libonnxruntime.so" {
		t.Fatal(got)
	}
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", "")
	if got := DefaultLibrary(); filepath.Base(got) != "libonnxruntime.so.1" {
		t.Fatal(got)
	}
}

func TestRepoRootHoldsTheModels(t *testing.T) {
	if _, err := os.Stat(filepath.Join(RepoRoot(), "models", "deer_tiny", "manifest.yaml")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", "")
	if got := LibraryUnder("/repo"); !strings.HasPrefix(got, "/repo/third_party/onnxruntime/") {
		t.Fatal(got)
	}
}
