package replay

import "math"

// latencyHistogram keeps latencies in log-spaced buckets 1% wide from 1 µs
// to about 100 s, so percentiles over any number of steps take fixed
// memory, within 1%.
type latencyHistogram struct {
	counts [1900]uint64
	n      uint64
}

const latencyMinMs = 1e-3

func (h *latencyHistogram) add(ms float64) {
	i := 0
	if ms > latencyMinMs {
		i = int(math.Log(ms/latencyMinMs) / math.Log(1.01))
	}
	h.counts[min(i, len(h.counts)-1)]++
	h.n++
}

// percentile returns the upper edge of the bucket holding the p-th
// percentile (nearest rank).
func (h *latencyHistogram) percentile(p float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= max(rank, 1) {
			return latencyMinMs * math.Pow(1.01, float64(i+1))
		}
	}
	return math.Inf(1)
}
