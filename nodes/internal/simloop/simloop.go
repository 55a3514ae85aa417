// Package simloop puts the early-exit engine in the sim package's control
// loop: it opens an engine on a model folder and turns sim observations into
// engine observations. The closed-loop benchmark (deer_vla_bench) and the
// on-policy demonstration recorder (deer_vla_demos -model) share it.
package simloop

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/ort"
	"github.com/deervla/deer_vla/sim"
)

// DefaultLibrary is the ONNX Runtime library that scripts/fetch_onnxruntime.sh
// installs, relative to the repository root, unless
// $ONNXRUNTIME_SHARED_LIBRARY_PATH names another.
func DefaultLibrary() string { return LibraryUnder("") }

// LibraryUnder is DefaultLibrary with the installed library's path under
// the repository root root (tests run from their package's folder).
func LibraryUnder(root string) string {
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		return p
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	return filepath.Join(root, "third_party", "onnxruntime", "1.24.3", "linux-"+arch, "libonnxruntime.so.1")
}

// RepoRoot is the repository root of this source file's checkout, for tests.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// OpenEngine loads the model in dir on the CPU with settings s and
// calibrations cals (needed for average budgets; see
// policy.ReadModelCalibrations).
func OpenEngine(dir, library string, threads int, s policy.Settings, cals []*policy.Calibration) (*policy.Engine, error) {
	m, err := policy.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	be, err := ort.Open(m, ort.Config{Library: library, IntraOpThreads: threads})
	if err != nil {
		return nil, err
	}
	// New closes the backend itself when it fails.
	return policy.New(policy.Config{Manifest: m, Backend: be, Calibrations: cals, Settings: s})
}

// Observation returns the engine observation of a sim observation: both
// camera images as rgb8 (sharing obs's pixel buffers) and the instruction.
func Observation(obs *sim.Observation) *policy.Observation {
	return &policy.Observation{
		Static:      &policy.Image{Width: obs.StaticW, Height: obs.StaticH, Encoding: "rgb8", Data: obs.Static},
		Gripper:     &policy.Image{Width: obs.GripperW, Height: obs.GripperH, Encoding: "rgb8", Data: obs.Gripper},
		Instruction: obs.Instruction,
	}
}

// Action returns the sim action of an engine action.
func Action(a policy.Action) sim.Action {
	return sim.Action{Pose: a.Pose, Gripper: a.Gripper}
}
