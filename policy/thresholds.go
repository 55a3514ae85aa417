package policy

import (
	"math"
	"slices"
)

// thresholdSolver sets exit thresholds from a calibration by the greedy
// quantile rule of DeeR: exit by exit, among the calibration steps that have
// not exited yet, pick the threshold that lets the wanted share of ALL steps
// exit there. Each exit's values are sorted once, so a solve is a few linear
// scans and allocates nothing: budgets can change between any two steps.
type thresholdSolver struct {
	steps  int
	order  [][]int32   // order[i]: steps sorted by exit i+1's distance
	sorted [][]float64 // sorted[i][j]: the distance of step order[i][j]
	exited []uint64    // scratch bitset: step already exited at an earlier exit (small enough to stay in L1)
}

func newThresholdSolver(c *Calibration) *thresholdSolver {
	s := &thresholdSolver{steps: c.Steps(), exited: make([]uint64, (c.Steps()+63)/64)}
	for _, vals := range c.Values {
		order := make([]int32, len(vals))
		for j := range order {
			order[j] = int32(j)
		}
		slices.SortStableFunc(order, func(a, b int32) int {
			switch {
			case vals[a] < vals[b]:
				return -1
			case vals[a] > vals[b]:
				return 1
			}
			return 0
		})
		sorted := make([]float64, len(vals))
		for j, st := range order {
			sorted[j] = vals[st]
		}
		s.order = append(s.order, order)
		s.sorted = append(s.sorted, sorted)
	}
	return s
}

// withScratch returns a solver over the same sorted calibration with its
// own scratch space (reusing exited's when it is big enough), so that two
// goroutines can solve at the same time.
func (s *thresholdSolver) withScratch(exited []uint64) thresholdSolver {
	c := *s
	words := len(s.exited)
	if cap(exited) < words {
		exited = make([]uint64, words)
	}
	c.exited = exited[:words]
	return c
}

// solve fills th[i] for the len(share) allowed exits (the last is +Inf) and
// counts[i] with how many calibration steps exit at exit i+1 under them.
// Steps tied with a threshold exit with it, as they would at run time, so a
// share can come out a little above its target; later exits make up for it.
func (s *thresholdSolver) solve(share, th []float64, counts []int) {
	clear(s.exited)
	n := len(share)
	done := 0
	var cum float64
	for i := 0; i < n-1; i++ {
		cum += share[i]
		target := int(math.Round(cum*float64(s.steps))) - done
		t, got := math.Inf(-1), 0
		if target > 0 {
			vals, order := s.sorted[i], s.order[i]
			exited := s.exited
			for j, st := range order {
				word, bit := st>>6, uint64(1)<<(st&63)
				if exited[word]&bit != 0 {
					continue
				}
				if got >= target && vals[j] > t {
					break
				}
				exited[word] |= bit
				got++
				t = vals[j]
			}
		}
		th[i], counts[i] = t, got
		done += got
	}
	th[n-1], counts[n-1] = math.Inf(1), s.steps-done
}
