package policytest

import (
	"fmt"
	"math"
	"sync"

	"github.com/deervla/deer_vla/policy"
)

// Backend is a scripted policy.Backend for models made by WriteModel.
//
// The encoder writes Feature(step, 0) into the reference feature; block i
// writes Feature(step, i) into exit i's feature; the head outputs
// pose = feature + state (element-wise, over 6 values), gripper =
// Gripper, and new state = feature + state. So a candidate's pose is
// fully controlled by the test, and the committed state shows which exit
// was committed. Step counts encoder runs.
type Backend struct {
	// Feature gives exit i's feature at a step (i = 0: the reference).
	// It defaults to all values i.
	Feature func(step, exit int) [FeatureDim]float32
	// Gripper is the head's gripper probability; it defaults to 0.75.
	Gripper float32
	// NaNAtExit makes the head output NaN on exit NaNAtExit's feature.
	NaNAtExit int
	// LoadGate, when not nil, blocks block loads until it is closed.
	LoadGate chan struct{}
	// BeforeRun, when not nil, is called before each stage runs: a test
	// makes a stage slow (advancing a [Clock]) or panic with it.
	BeforeRun func(stage int)

	exits    int
	features [][]float32 // features[i]: exit i's feature (0: the reference)
	f32      map[string][]float32
	i64      map[string][]int64

	mu       sync.Mutex
	loaded   map[int]bool
	Loads    []int // stages loaded, in order
	Releases []int // stages released, in order
	Runs     []int // stages run, in order (cleared by ClearRuns)
	Step     int   // encoder runs so far
	closed   bool
}

// NewBackend allocates every tensor of m.
func NewBackend(m *policy.Manifest) *Backend {
	b := &Backend{exits: len(m.Exits), f32: map[string][]float32{}, i64: map[string][]int64{}, loaded: map[int]bool{}, Gripper: 0.75}
	for name, t := range m.Tensors {
		if t.DType == "int64" {
			b.i64[name] = make([]int64, t.Elements())
		} else {
			b.f32[name] = make([]float32, t.Elements())
		}
	}
	for i := 0; i <= b.exits; i++ {
		b.features = append(b.features, b.f32[fmt.Sprintf("feature_%d", i)])
	}
	return b
}

// Float32 implements policy.Backend.
func (b *Backend) Float32(name string) []float32 { return b.f32[name] }

// Int64 implements policy.Backend.
func (b *Backend) Int64(name string) []int64 { return b.i64[name] }

// Load implements policy.Backend.
func (b *Backend) Load(stage int) error {
	if b.LoadGate != nil && stage >= 1 && stage <= b.exits {
		<-b.LoadGate
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.loaded[stage] = true
	b.Loads = append(b.Loads, stage)
	return nil
}

// Release implements policy.Backend.
func (b *Backend) Release(stage int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.loaded, stage)
	b.Releases = append(b.Releases, stage)
	return nil
}

// Loaded reports whether a stage is loaded.
func (b *Backend) Loaded(stage int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loaded[stage]
}

// ClearRuns forgets the recorded runs.
func (b *Backend) ClearRuns() {
	b.mu.Lock()
	b.Runs = b.Runs[:0]
	b.mu.Unlock()
}

// Close implements policy.Backend.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// Closed reports whether Close was called.
func (b *Backend) Closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func (b *Backend) feature(exit int) [FeatureDim]float32 {
	if b.Feature != nil {
		return b.Feature(b.Step, exit)
	}
	var f [FeatureDim]float32
	for i := range f {
		f[i] = float32(exit)
	}
	return f
}

// Run implements policy.Backend.
func (b *Backend) Run(stage int) error {
	b.mu.Lock()
	ok := b.loaded[stage]
	b.Runs = append(b.Runs, stage)
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("policytest: stage %d run while not loaded", stage)
	}
	if b.BeforeRun != nil {
		b.BeforeRun(stage)
	}
	switch {
	case stage <= b.exits:
		if stage == 0 {
			b.Step++
		}
		f := b.feature(stage)
		copy(b.features[stage], f[:])
	default:
		feat, state := b.f32["head_feature"], b.f32["state_in"]
		pose, out := b.f32["pose"], b.f32["state_out"]
		nan := b.NaNAtExit > 0 && feat[0] == b.feature(b.NaNAtExit)[0]
		for i := range pose {
			pose[i] = feat[i] + state[i]
			out[i] = feat[i] + state[i]
			if nan {
				pose[i] = float32(math.NaN())
			}
		}
		b.f32["gripper"][0] = b.Gripper
	}
	return nil
}
