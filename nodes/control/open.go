package control

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/ort"
)

// DefaultModel is the folder name of the model the package ships and uses
// when model.path is empty.
const DefaultModel = "deer_tiny"

// ORTVersion is the ONNX Runtime release scripts/fetch_onnxruntime.sh fetches.
const ORTVersion = "1.24.3"

// Environment is what an executable knows about where it runs. Only
// executables read the process environment; they pass it in here.
type Environment struct {
	// ORTLibrary is $ONNXRUNTIME_SHARED_LIBRARY_PATH, or empty.
	ORTLibrary string
	// SearchDirs are folders that may hold models/ and third_party/: the
	// working directory, the package's share directory, ...
	SearchDirs []string
}

// ProcessEnvironment reads the environment of this process: for
// executables only.
func ProcessEnvironment() Environment {
	env := Environment{ORTLibrary: os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")}
	if wd, err := os.Getwd(); err == nil {
		env.SearchDirs = append(env.SearchDirs, wd)
	}
	if exe, err := os.Executable(); err == nil {
		// colcon installs lib/deer_vla/<exe> beside share/deer_vla/.
		env.SearchDirs = append(env.SearchDirs, filepath.Join(filepath.Dir(exe), "..", "..", "share", "deer_vla"))
	}
	return env
}

// ModelDir resolves model.path: an explicit folder, or the default model
// found in the search folders.
func (env Environment) ModelDir(p Params) (string, error) {
	if dir := p.Str(ParamModelPath); dir != "" {
		return dir, nil
	}
	for _, d := range env.SearchDirs {
		dir := filepath.Join(d, "models", DefaultModel)
		if _, err := os.Stat(filepath.Join(dir, policy.ManifestFile)); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("control: %s is empty and the default model models/%s is not in %v", ParamModelPath, DefaultModel, env.SearchDirs)
}

// Library resolves runtime.library: the parameter, the environment
// variable, or the copy fetched into third_party/.
func (env Environment) Library(p Params) string {
	if lib := p.Str(ParamLibrary); lib != "" {
		return lib
	}
	if env.ORTLibrary != "" {
		return env.ORTLibrary
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	for _, d := range env.SearchDirs {
		lib := filepath.Join(d, "third_party", "onnxruntime", ORTVersion, "linux-"+arch, "libonnxruntime.so.1")
		if _, err := os.Stat(lib); err == nil {
			return lib
		}
	}
	return ""
}

// OpenEngine loads the model, its calibrations (when there are any) and ONNX
// Runtime as the read-only parameters say, with the live parameters'
// settings.
func OpenEngine(p Params, env Environment) (*policy.Engine, error) {
	dir, err := env.ModelDir(p)
	if err != nil {
		return nil, err
	}
	m, err := policy.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	cals, err := loadCalibrations(p, dir)
	if err != nil {
		return nil, err
	}
	cfg := ort.Config{
		Library:        env.Library(p),
		Provider:       p.Str(ParamProvider),
		IntraOpThreads: int(p.Int(ParamIntraOpThreads)),
		AllowSpinning:  p.Bool(ParamAllowSpinning),
	}
	if cfg.Provider != ort.ProviderCPU {
		cfg.ProviderOptions = map[string]string{"device_id": strconv.FormatInt(p.Int(ParamDeviceID), 10)}
	}
	be, err := ort.Open(m, cfg)
	if err != nil {
		return nil, err
	}
	return policy.New(policy.Config{Manifest: m, Backend: be, Calibrations: cals, Settings: p.Settings()})
}

// loadCalibrations reads the calibration the parameters name or, by
// default, every calibration in the model folder, so that exit.metric can be
// switched live between the metrics the model was calibrated for.
func loadCalibrations(p Params, modelDir string) ([]*policy.Calibration, error) {
	path := p.Str(ParamCalibration)
	if path == "" {
		return policy.ReadModelCalibrations(modelDir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return policy.ReadModelCalibrations(path)
	}
	cal, err := policy.ReadCalibration(path)
	if err != nil {
		return nil, err
	}
	return []*policy.Calibration{cal}, nil
}
