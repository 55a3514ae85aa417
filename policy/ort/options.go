package ort

import (
	"fmt"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Execution providers.
const (
	ProviderCPU      = "cpu"
	ProviderCUDA     = "cuda"
	ProviderTensorRT = "tensorrt"
)

// Config says where ONNX Runtime is and how to run sessions.
type Config struct {
	// Library is the path of libonnxruntime.so. Required.
	Library string
	// Provider is cpu, cuda or tensorrt. It defaults to cpu.
	Provider string
	// ProviderOptions are passed to the CUDA or TensorRT provider as they
	// are (for example device_id); unknown keys are ONNX Runtime's to reject.
	ProviderOptions map[string]string
	// IntraOpThreads is the threads one stage may use; 0 lets ONNX Runtime
	// choose (one per physical core). See README "Threads" for why the
	// node's default is 1.
	IntraOpThreads int
	// AllowSpinning lets ONNX Runtime's worker threads busy-wait for work
	// between and after runs (its own default). Off, they sleep: on a
	// computer whose cores other processes also use, spinning threads take
	// those cores' time and the steps slow down several-fold (README
	// "Threads"). It matters only when a stage has more than one thread.
	AllowSpinning bool
}

// sessionOptions builds the options every stage session shares.
func (c Config) sessionOptions() (*ortgo.SessionOptions, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	if err := c.configure(opts); err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

func (c Config) configure(opts *ortgo.SessionOptions) error {
	if c.IntraOpThreads < 0 {
		return fmt.Errorf("ort: intra-op threads %d must be >= 0", c.IntraOpThreads)
	}
	if c.IntraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(c.IntraOpThreads); err != nil {
			return fmt.Errorf("ort: intra-op threads: %w", err)
		}
	}
	spin := "0"
	if c.AllowSpinning {
		spin = "1"
	}
	for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
		if err := opts.AddSessionConfigEntry(key, spin); err != nil {
			return fmt.Errorf("ort: %s: %w", key, err)
		}
	}
	switch c.Provider {
	case "", ProviderCPU:
		if len(c.ProviderOptions) > 0 {
			return fmt.Errorf("ort: provider options %v given for the cpu provider, which takes none", c.ProviderOptions)
		}
		return nil
	case ProviderCUDA:
		po, err := ortgo.NewCUDAProviderOptions()
		if err != nil {
			return missingProvider(c.Provider, err)
		}
		defer po.Destroy()
		if err := po.Update(c.ProviderOptions); err != nil {
			return fmt.Errorf("ort: cuda provider options %v: %w", c.ProviderOptions, err)
		}
		if err := opts.AppendExecutionProviderCUDA(po); err != nil {
			return missingProvider(c.Provider, err)
		}
		return nil
	case ProviderTensorRT:
		po, err := ortgo.NewTensorRTProviderOptions()
		if err != nil {
			return missingProvider(c.Provider, err)
		}
		defer po.Destroy()
		if err := po.Update(c.ProviderOptions); err != nil {
			return fmt.Errorf("ort: tensorrt provider options %v: %w", c.ProviderOptions, err)
		}
		if err := opts.AppendExecutionProviderTensorRT(po); err != nil {
			return missingProvider(c.Provider, err)
		}
		return nil
	}
	return fmt.Errorf("ort: execution provider %q is not one of cpu, cuda, tensorrt", c.Provider)
}

func missingProvider(name string, err error) error {
	return fmt.Errorf("ort: the %s execution provider is not available in the loaded ONNX Runtime (%s); the bundled npm build is CPU-only, so point the library path at an ONNX Runtime built with %s: %w",
		name, env.library, name, err)
}
