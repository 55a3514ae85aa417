package replay

import (
	"runtime"
	"testing"
	"time"

	"github.com/deervla/deer_vla/nodes/control"
)

// peakHeap replays a bag and samples the live heap every 250 steps.
func peakHeap(t testing.TB, bagDir string) (uint64, *Report) {
	node, p := newNode(t, nil)
	runtime.GC()
	var peak uint64
	var ms runtime.MemStats
	steps := 0
	rep, err := Run(Config{Bag: bagDir, Params: p}, node, func(*control.Output) {
		if steps++; steps%250 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return peak, rep
}

// A 10,000-step bag replays in the memory a 1,000-step one needs: the bag
// is streamed and the report keeps fixed-size state.
func TestReplayMemoryIsFlat(t *testing.T) {
	g := loadGolden(t)
	short := writeGoldenBag(t, g, 1000/len(g.Steps)+1, false)
	long := writeGoldenBag(t, g, 10000/len(g.Steps)+1, false)
	small, _ := peakHeap(t, short)
	large, rep := peakHeap(t, long)
	if rep.Steps < 10000 {
		t.Fatalf("only %d steps", rep.Steps)
	}
	t.Logf("peak live heap: %d KiB at 1,000 steps, %d KiB at %d steps", small>>10, large>>10, rep.Steps)
	if large > small+2<<20 {
		t.Fatalf("live heap grew from %d KiB to %d KiB with bag length", small>>10, large>>10)
	}
}

// BenchmarkReplayOverhead reports the replay loop's own time (reading,
// decoding, bookkeeping, report) beyond the engine's steps, as a share of
// the steps' time, measured in the same run.
func BenchmarkReplayOverhead(b *testing.B) {
	g := loadGolden(b)
	bagDir := writeGoldenBag(b, g, 40, false)
	for b.Loop() {
		node, p := newNode(b, nil)
		var inStep time.Duration
		t0 := time.Now()
		if _, err := Run(Config{Bag: bagDir, Params: p}, node, func(o *control.Output) { inStep += o.Result.Total }); err != nil {
			b.Fatal(err)
		}
		total := time.Since(t0)
		b.ReportMetric(100*float64(total-inStep)/float64(inStep), "overhead-%")
	}
}
