package policy

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by calls on a closed engine.
var ErrClosed = errors.New("policy: engine closed")

// Config builds an [Engine].
type Config struct {
	// Manifest describes the model (see [LoadManifest]). Required.
	Manifest *Manifest
	// Backend runs the stages; the engine owns it from New on and closes
	// it in Close, also when New fails. Required.
	Backend Backend
	// Calibrations, optional, let an average-GFLOPs budget be solved: one
	// per exit metric, at most, and a budget is solved from the one
	// measured with the settings' metric (see [ReadModelCalibrations]).
	Calibrations []*Calibration
	// Settings are the initial settings.
	Settings Settings
	// Clock, optional, times the stages. It defaults to time.Now.
	Clock func() time.Time
}

// Engine runs the early-exit policy one control step at a time. Step,
// Reset and Close may be called from one goroutine while SetSettings and
// Plan are called from others.
type Engine struct {
	m     *Manifest
	be    Backend
	tok   *Tokenizer
	clock func() time.Time

	// mu is held for a whole step, and by whatever loads or frees sessions.
	mu     sync.Mutex
	closed bool
	t      tensors
	ep     episode
	cand   [MaxExits + 1]candidate // [0] is the reference, [i] exit i
	sess   sessions
	at     part // where the step in progress is, to name a failure's stage

	tracker    budgetTracker // under mu
	settingsMu sync.Mutex    // serialises planners
	planner    *planner
	plan       atomic.Pointer[Plan]
}

// New opens the model's sessions for the initial settings and returns a
// ready engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Backend == nil || cfg.Manifest == nil {
		return nil, errors.New("policy: Config needs a Manifest and a Backend")
	}
	e := &Engine{m: cfg.Manifest, be: cfg.Backend, clock: cfg.Clock}
	if e.clock == nil {
		e.clock = time.Now
	}
	fail := func(err error) (*Engine, error) {
		e.be.Close()
		return nil, err
	}
	var err error
	if e.tok, err = NewTokenizer(e.m.Dir, e.m.Tokenizer); err != nil {
		return fail(err)
	}
	if err = e.t.bind(e.m, e.be); err != nil {
		return fail(err)
	}
	if e.planner, err = newPlanner(e.m, cfg.Calibrations); err != nil {
		return fail(err)
	}
	pl, err := e.planner.plan(cfg.Settings)
	if err != nil {
		return fail(err)
	}
	e.plan.Store(pl)
	for _, st := range []int{encoderStage, e.headStage()} {
		if err := e.be.Load(st); err != nil {
			return fail(err)
		}
	}
	for k := 1; k <= pl.MaxExit; k++ {
		if err := e.be.Load(blockStage(k)); err != nil {
			return fail(err)
		}
	}
	e.sess = sessions{loaded: pl.MaxExit, want: pl.MaxExit}
	return e, nil
}

// Now reads the engine's clock (Config.Clock), the one that
// Observation.Deadline is on.
func (e *Engine) Now() time.Time { return e.clock() }

// Manifest returns the model's manifest. It must not be modified.
func (e *Engine) Manifest() *Manifest { return e.m }

// Plan returns the plan in force. It must not be modified.
func (e *Engine) Plan() *Plan { return e.plan.Load() }

// SetSettings validates s and, if valid, makes it apply from the next step;
// otherwise it returns why and the old settings stay. Lowering the deepest
// allowed exit frees the deeper blocks' sessions before it returns (waiting
// for a step in progress); raising it loads them in the background, and the
// engine uses them once they are ready, without stalling steps.
func (e *Engine) SetSettings(s Settings) (*Plan, error) {
	e.settingsMu.Lock()
	pl, err := e.planner.plan(s)
	if err == nil {
		e.plan.Store(pl)
	}
	e.settingsMu.Unlock()
	if err != nil {
		return nil, err
	}
	e.reconcile(pl.MaxExit)
	return pl, nil
}

// Reset forgets the episode: the recurrent state, the instruction and any held exit.
func (e *Engine) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.resetLocked()
}

func (e *Engine) resetLocked() {
	for _, s := range e.t.stateIn {
		clear(s)
	}
	e.ep = episode{}
}

// Close waits for a step or a background load in progress, then frees
// every session. The engine cannot be used afterwards.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	e.sess.wg.Wait()
	return e.be.Close()
}

// episode is what the engine remembers between steps of one instruction.
type episode struct {
	instruction string // tokens in the tensors are this instruction's
	steps       int    // steps committed
	holdExit    int    // exit being held, 0 when none
	holdLeft    int    // held steps still to run
}

// candidate is one head evaluation's action before it is chosen.
type candidate struct {
	pose    [PoseDims]float32
	gripper float32
}

// tensors are the engine's views of the backend's buffers, resolved once.
type tensors struct {
	cams        []*preprocessor // in manifest order
	camSlots    []string
	tokens      []int64
	mask        []float32
	reference   []float32
	features    [][]float32 // features[i]: exit i+1's feature
	headFeature []float32
	stateIn     [][]float32
	stateOut    [][]float32
	pose        []float32
	gripper     []float32
}

func (t *tensors) bind(m *Manifest, be Backend) error {
	f32 := func(name string) ([]float32, error) {
		if b := be.Float32(name); b != nil {
			return b, nil
		}
		return nil, fmt.Errorf("policy: backend has no float32 tensor %q", name)
	}
	var err error
	for _, c := range m.Cameras {
		buf, e := f32(c.Tensor)
		err = errors.Join(err, e)
		t.cams = append(t.cams, newPreprocessor(c, buf))
		t.camSlots = append(t.camSlots, c.Slot)
	}
	if t.tokens = be.Int64(m.Tokenizer.TokensTensor); t.tokens == nil {
		err = errors.Join(err, fmt.Errorf("policy: backend has no int64 tensor %q", m.Tokenizer.TokensTensor))
	}
	var e1, e2, e3, e4, e5 error
	t.mask, e1 = f32(m.Tokenizer.MaskTensor)
	t.reference, e2 = f32(m.ReferenceFeature)
	t.headFeature, e3 = f32(m.Head.Feature)
	t.pose, e4 = f32(m.Head.Pose)
	t.gripper, e5 = f32(m.Head.Gripper)
	err = errors.Join(err, e1, e2, e3, e4, e5)
	for _, x := range m.Exits {
		b, e := f32(x.Feature)
		err = errors.Join(err, e)
		t.features = append(t.features, b)
	}
	for i := range m.Head.StateInputs {
		in, e1 := f32(m.Head.StateInputs[i])
		out, e2 := f32(m.Head.StateOutputs[i])
		err = errors.Join(err, e1, e2)
		t.stateIn = append(t.stateIn, in)
		t.stateOut = append(t.stateOut, out)
	}
	return err
}
