// Package ort runs a policy model's stages with ONNX Runtime through
// github.com/yalue/onnxruntime_go. It is the only package that imports it,
// and it owns every native object it creates: see [Backend.Close].
package ort

import (
	"fmt"
	"os"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime keeps one environment per process, bound to one shared
// library; env remembers which.
var env struct {
	sync.Mutex
	library string
}

// initRuntime loads the ONNX Runtime shared library once per process.
func initRuntime(library string) error {
	env.Lock()
	defer env.Unlock()
	if library == "" {
		return fmt.Errorf("ort: no ONNX Runtime shared library given (set the library path flag, ONNXRUNTIME_SHARED_LIBRARY_PATH, or run scripts/fetch_onnxruntime.sh)")
	}
	if library == env.library {
		return nil
	}
	if _, err := os.Stat(library); err != nil {
		return fmt.Errorf("ort: ONNX Runtime shared library: %w (run scripts/fetch_onnxruntime.sh, or point at your own CUDA/TensorRT build)", err)
	}
	if env.library != "" {
		return fmt.Errorf("ort: ONNX Runtime is already loaded from %s in this process; cannot also load %s", env.library, library)
	}
	ortgo.SetSharedLibraryPath(library)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
		return fmt.Errorf("ort: loading ONNX Runtime from %s: %w", library, err)
	}
	env.library = library
	return nil
}

// Version returns the version of the loaded ONNX Runtime library.
func Version() string { return ortgo.GetVersion() }
