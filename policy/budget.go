package policy

import (
	"errors"
	"fmt"
	"math"
)

// ErrBudgetInfeasible is returned when a peak-GFLOPs or memory budget is
// below what the model's first exit needs: nothing could run under it.
var ErrBudgetInfeasible = errors.New("policy: budget infeasible")

// BytesPerMB is the size of the memory budget's unit (MB, not MiB).
const BytesPerMB = 1e6

// Budget is the compute a user allows. A zero field is unset.
//
// Outcomes at the edges (see budget_test.go):
//   - PeakGFLOPs or MemoryMB below exit 1's needs: rejected with ErrBudgetInfeasible.
//   - AvgGFLOPs at or below exit 1's cost: every step exits at exit 1
//     (the least the model can do); the plan says it is clamped.
//   - AvgGFLOPs at or above the deepest allowed exit's cost: no early exit.
type Budget struct {
	AvgGFLOPs  float64 // average decoder GFLOPs per action (energy)
	PeakGFLOPs float64 // most decoder GFLOPs in one action (latency)
	MemoryMB   float64 // weights loaded: encoder + head + blocks up to the deepest exit
}

func (b Budget) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"average GFLOPs", b.AvgGFLOPs}, {"peak GFLOPs", b.PeakGFLOPs}, {"memory MB", b.MemoryMB}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("policy: %s budget %g must be a finite number >= 0 (0 = unset)", f.name, f.v)
		}
	}
	return nil
}

// MaxExit returns the deepest exit (1-based) whose cumulative cost fits the
// peak and memory budgets.
func (m *Manifest) MaxExit(b Budget) (int, error) {
	n := len(m.Exits)
	if b.PeakGFLOPs > 0 {
		for n > 0 && m.Exits[n-1].GFLOPs > b.PeakGFLOPs*(1+1e-9) {
			n--
		}
		if n == 0 {
			return 0, fmt.Errorf("%w: peak %g GFLOPs is below exit 1's %g GFLOPs", ErrBudgetInfeasible, b.PeakGFLOPs, m.Exits[0].GFLOPs)
		}
	}
	if b.MemoryMB > 0 {
		fixed := m.Encoder.WeightBytes + m.Head.WeightBytes
		for n > 0 && float64(fixed+m.Exits[n-1].WeightBytes) > b.MemoryMB*BytesPerMB {
			n--
		}
		if n == 0 {
			return 0, fmt.Errorf("%w: memory %g MB is below the %g MB that encoder, head and exit 1 need", ErrBudgetInfeasible,
				b.MemoryMB, float64(fixed+m.Exits[0].WeightBytes)/BytesPerMB)
		}
	}
	return n, nil
}

// exitShares fills share[i] with the geometric share q^(i+1) / sum_j q^(j+1)
// of steps that exit at exit i+1, computed in log space so that extreme q
// neither overflows nor underflows.
func exitShares(logQ float64, share []float64) {
	n := len(share)
	top := logQ // the largest exponent is logQ*1 or logQ*n
	if logQ > 0 {
		top = logQ * float64(n)
	}
	var sum float64
	for i := range share {
		share[i] = math.Exp(logQ*float64(i+1) - top)
		sum += share[i]
	}
	for i := range share {
		share[i] /= sum
	}
}

// expectedGFLOPs is sum_i share_i * C_i.
func expectedGFLOPs(share []float64, cost []float64) float64 {
	var e float64
	for i, s := range share {
		e += s * cost[i]
	}
	return e
}

// solveQ finds log q such that the geometric exit distribution over
// len(cost) exits spends avg GFLOPs on average, by bisection: the expected
// cost rises monotonically with q. avg must lie strictly between cost[0]
// and cost[len-1].
func solveQ(avg float64, cost []float64, share []float64) float64 {
	lo, hi := -60.0, 60.0
	for range 100 {
		mid := (lo + hi) / 2
		exitShares(mid, share)
		if expectedGFLOPs(share, cost) < avg {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12 {
			break
		}
	}
	logQ := (lo + hi) / 2
	exitShares(logQ, share)
	return logQ
}
