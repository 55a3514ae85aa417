package control

import (
	"slices"
	"sync"

	"github.com/deervla/deer_vla/policy"
)

// Window keeps the last steps' figures for diagnostics: latency
// percentiles, the exit histogram and the realised average GFLOPs against
// the budget; and how the last frames ended, actions and the reasons for
// no action alike. Recording allocates nothing. It is safe for concurrent
// use: the control loop adds, a diagnostics timer summarises.
type Window struct {
	mu        sync.Mutex
	latencyMs []float64 // ring buffers of the same length
	gflops    []float64
	exits     []int
	cut       []bool
	next, n   int
	solved    float64   // the last step's SolvedGFLOPs
	sorted    []float64 // scratch for percentiles

	outcomes []Skip // ring of the last frames' endings, Stepped included
	onext    int
	on       int
}

// NewWindow keeps the last size steps, and the last size frames' endings.
func NewWindow(size int) *Window {
	return &Window{latencyMs: make([]float64, size), gflops: make([]float64, size), exits: make([]int, size), cut: make([]bool, size),
		sorted: make([]float64, 0, size), outcomes: make([]Skip, size)}
}

// Add records one step; solvedGFLOPs is the average budget its thresholds
// were solved for (policy.StepResult.SolvedGFLOPs), cut whether the
// deadline chose its exit.
func (w *Window) Add(latencyMs, gflops float64, exit int, solvedGFLOPs float64, cut bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.solved = solvedGFLOPs
	w.latencyMs[w.next], w.gflops[w.next], w.exits[w.next], w.cut[w.next] = latencyMs, gflops, exit, cut
	w.next = (w.next + 1) % len(w.latencyMs)
	w.n = min(w.n+1, len(w.latencyMs))
	w.addOutcome(Stepped)
}

// Skipped records a frame that ended without an action, and why.
func (w *Window) Skipped(reason Skip) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addOutcome(reason)
}

func (w *Window) addOutcome(s Skip) {
	w.outcomes[w.onext] = s
	w.onext = (w.onext + 1) % len(w.outcomes)
	w.on = min(w.on+1, len(w.outcomes))
}

// Len is the number of steps in the window.
func (w *Window) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// AvgGFLOPs is the mean GFLOPs over the window (0 when empty).
func (w *Window) AvgGFLOPs() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.avgGFLOPs()
}

func (w *Window) avgGFLOPs() float64 {
	if w.n == 0 {
		return 0
	}
	var s float64
	for _, g := range w.gflops[:w.n] {
		s += g
	}
	return s / float64(w.n)
}

// Summary is the window's figures.
type Summary struct {
	Steps                              int
	LatencyP50, LatencyP95, LatencyP99 float64 // milliseconds
	AvgGFLOPs, PeakGFLOPs              float64
	ExitCounts                         [policy.MaxExits + 1]int // [i]: steps that exited at exit i
	// DeadlineCuts is how many of the steps the deadline ended early.
	DeadlineCuts int
	// SolvedGFLOPs is the average budget the last step's thresholds were
	// solved for: the user's, corrected by the budget window (0: none).
	SolvedGFLOPs float64
	// Frames is how many frame endings the window holds, and Ended[s] how
	// many of them ended by s ([Stepped]: with an action, [Failed]: a
	// failed step, ...).
	Frames int
	Ended  [NumSkips]int
}

// Summary computes the percentiles and histogram.
func (w *Window) Summary() Summary {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Summary{Steps: w.n, AvgGFLOPs: w.avgGFLOPs(), SolvedGFLOPs: w.solved, Frames: w.on}
	for _, o := range w.outcomes[:w.on] {
		s.Ended[o]++
	}
	if w.n == 0 {
		return s
	}
	w.sorted = append(w.sorted[:0], w.latencyMs[:w.n]...)
	slices.Sort(w.sorted)
	s.LatencyP50, s.LatencyP95, s.LatencyP99 = Percentile(w.sorted, 50), Percentile(w.sorted, 95), Percentile(w.sorted, 99)
	for i := 0; i < w.n; i++ {
		s.ExitCounts[w.exits[i]]++
		s.PeakGFLOPs = max(s.PeakGFLOPs, w.gflops[i])
		if w.cut[i] {
			s.DeadlineCuts++
		}
	}
	return s
}

// Percentile of sorted values by the nearest-rank method.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
