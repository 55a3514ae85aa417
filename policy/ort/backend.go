package ort

import (
	"errors"
	"fmt"
	"sync/atomic"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/deervla/deer_vla/policy"
)

// Backend implements policy.Backend with one ONNX Runtime session per stage.
// Every declared tensor is allocated once at Open; sessions bind to those
// tensors, so a Run allocates nothing.
type Backend struct {
	stages []stageDef
	sess   []atomic.Pointer[ortgo.AdvancedSession]
	f32    map[string]*ortgo.Tensor[float32]
	i64    map[string]*ortgo.Tensor[int64]
	opts   *ortgo.SessionOptions
}

// stageDef is one stage's file and the tensors it binds, in order.
type stageDef struct {
	name    string // for errors: "encoder", "exit 2", "head"
	path    string
	data    string // external-data file, "" when none
	inputs  []string
	outputs []string
}

var _ policy.Backend = (*Backend)(nil)

// Open loads ONNX Runtime (once per process), checks every stage's ONNX
// file against the manifest's tensor names, dtypes and shapes (reading the
// graph, not the weights) and its external data, and allocates the
// tensors. It loads no session: the engine does, once per stage. The caller
// must Close the backend (policy.Engine does when it owns it).
func Open(m *policy.Manifest, cfg Config) (*Backend, error) {
	if err := initRuntime(cfg.Library); err != nil {
		return nil, err
	}
	b := &Backend{f32: map[string]*ortgo.Tensor[float32]{}, i64: map[string]*ortgo.Tensor[int64]{}}
	b.stages = append(b.stages, stageDef{"encoder", m.Path(m.Encoder.File), dataPath(m, m.Encoder.Data), m.Encoder.Inputs, m.Encoder.Outputs})
	for i, x := range m.Exits {
		b.stages = append(b.stages, stageDef{fmt.Sprintf("exit %d", i+1), m.Path(x.File), dataPath(m, x.Data), x.Inputs, x.Outputs})
	}
	h := m.Head
	b.stages = append(b.stages, stageDef{"head", m.Path(h.File), dataPath(m, h.Data),
		append([]string{h.Feature}, h.StateInputs...),
		append([]string{h.Pose, h.Gripper}, h.StateOutputs...)})
	b.sess = make([]atomic.Pointer[ortgo.AdvancedSession], len(b.stages))

	var errs []error
	for _, st := range b.stages {
		errs = append(errs, checkStage(m, st))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var err error
	if b.opts, err = cfg.sessionOptions(); err != nil {
		return nil, err
	}
	if err := b.allocate(m); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func dataPath(m *policy.Manifest, file string) string {
	if file == "" {
		return ""
	}
	return m.Path(file)
}

func (b *Backend) allocate(m *policy.Manifest) error {
	for name, spec := range m.Tensors {
		shape := ortgo.NewShape(spec.Shape...)
		switch spec.DType {
		case "float32":
			t, err := ortgo.NewEmptyTensor[float32](shape)
			if err != nil {
				return fmt.Errorf("ort: tensor %q: %w", name, err)
			}
			b.f32[name] = t
		case "int64":
			t, err := ortgo.NewEmptyTensor[int64](shape)
			if err != nil {
				return fmt.Errorf("ort: tensor %q: %w", name, err)
			}
			b.i64[name] = t
		}
	}
	return nil
}

// Float32 implements policy.Backend.
func (b *Backend) Float32(tensor string) []float32 {
	if t, ok := b.f32[tensor]; ok {
		return t.GetData()
	}
	return nil
}

// Int64 implements policy.Backend.
func (b *Backend) Int64(tensor string) []int64 {
	if t, ok := b.i64[tensor]; ok {
		return t.GetData()
	}
	return nil
}

func (b *Backend) value(name string) ortgo.Value {
	if t, ok := b.f32[name]; ok {
		return t
	}
	return b.i64[name]
}

// Load implements policy.Backend: it creates the stage's session.
func (b *Backend) Load(stage int) error {
	if stage < 0 || stage >= len(b.stages) {
		return fmt.Errorf("ort: no stage %d", stage)
	}
	if b.sess[stage].Load() != nil {
		return nil
	}
	st := b.stages[stage]
	ins := make([]ortgo.Value, len(st.inputs))
	for i, n := range st.inputs {
		ins[i] = b.value(n)
	}
	outs := make([]ortgo.Value, len(st.outputs))
	for i, n := range st.outputs {
		outs[i] = b.value(n)
	}
	s, err := ortgo.NewAdvancedSession(st.path, st.inputs, st.outputs, ins, outs, b.opts)
	if err != nil {
		return fmt.Errorf("ort: %s: loading %s: %w", st.name, st.path, err)
	}
	b.sess[stage].Store(s)
	return nil
}

// Release implements policy.Backend: it destroys the stage's session,
// which frees its weights.
func (b *Backend) Release(stage int) error {
	if stage < 0 || stage >= len(b.stages) {
		return fmt.Errorf("ort: no stage %d", stage)
	}
	if s := b.sess[stage].Swap(nil); s != nil {
		err := s.Destroy()
		trimHeap()
		return err
	}
	return nil
}

// Loaded reports whether a stage has a session.
func (b *Backend) Loaded(stage int) bool {
	return stage >= 0 && stage < len(b.sess) && b.sess[stage].Load() != nil
}

// Run implements policy.Backend.
func (b *Backend) Run(stage int) error {
	s := b.sess[stage].Load()
	if s == nil {
		return fmt.Errorf("ort: %s is not loaded", b.stages[stage].name)
	}
	if err := s.Run(); err != nil {
		return fmt.Errorf("ort: %s: %w", b.stages[stage].name, err)
	}
	return nil
}

// Close implements policy.Backend: it destroys every session, tensor and
// the session options. It is safe on a half-opened backend.
func (b *Backend) Close() error {
	var errs []error
	for i := range b.sess {
		errs = append(errs, b.Release(i))
	}
	for _, t := range b.f32 {
		errs = append(errs, t.Destroy())
	}
	for _, t := range b.i64 {
		errs = append(errs, t.Destroy())
	}
	b.f32, b.i64 = nil, nil
	if b.opts != nil {
		errs = append(errs, b.opts.Destroy())
		b.opts = nil
	}
	return errors.Join(errs...)
}
