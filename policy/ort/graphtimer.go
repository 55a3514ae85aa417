package ort

import (
	"fmt"
	"math/rand/v2"
	"time"

	ortgo "github.com/yalue/onnxruntime_go"
)

// GraphInput names one input of a standalone graph, its shape and its
// element type: float32 (the default) or int64.
type GraphInput struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
	Type  string  `json:"type,omitempty"`
}

// TimeGraph runs a standalone ONNX graph (a timing-only piece of a stage,
// such as the encoder's vision tower cut out of encoder.onnx) warmup+runs
// times on seeded inputs (float32: normal noise; int64: zeros), with the session options the
// engine's stages get, and returns the wall time of each of the last runs.
// It is for benchmarks: the engine itself never runs a graph outside its
// manifest.
func TimeGraph(cfg Config, path string, inputs []GraphInput, outputs []string, warmup, runs int) ([]time.Duration, error) {
	if err := initRuntime(cfg.Library); err != nil {
		return nil, err
	}
	opts, err := cfg.sessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	rng := rand.New(rand.NewPCG(21, 1))
	in := make([]ortgo.Value, len(inputs))
	names := make([]string, len(inputs))
	defer func() {
		for _, v := range in {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, gi := range inputs {
		n := int64(1)
		for _, d := range gi.Shape {
			n *= d
		}
		var t ortgo.Value
		var err error
		switch gi.Type {
		case "", "float32":
			data := make([]float32, n)
			for k := range data {
				data[k] = float32(rng.NormFloat64())
			}
			t, err = ortgo.NewTensor(ortgo.NewShape(gi.Shape...), data)
		case "int64":
			t, err = ortgo.NewTensor(ortgo.NewShape(gi.Shape...), make([]int64, n))
		default:
			err = fmt.Errorf("element type %q (float32 or int64)", gi.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("ort: %s input %s: %w", path, gi.Name, err)
		}
		in[i], names[i] = t, gi.Name
	}
	sess, err := ortgo.NewDynamicAdvancedSession(path, names, outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", path, err)
	}
	defer sess.Destroy()
	var times []time.Duration
	for r := 0; r < warmup+runs; r++ {
		out := make([]ortgo.Value, len(outputs))
		t0 := time.Now()
		err := sess.Run(in, out)
		dt := time.Since(t0)
		for _, v := range out {
			if v != nil {
				v.Destroy()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("ort: %s: %w", path, err)
		}
		if r >= warmup {
			times = append(times, dt)
		}
	}
	return times, nil
}
