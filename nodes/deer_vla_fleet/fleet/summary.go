package fleet

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deervla/deer_vla/replay"
)

// MaxWorst is how many of the worst bags a summary lists.
const MaxWorst = 5

// Summary combines the rows of one sweep point.
type Summary struct {
	Point     int     `json:"sweep_point"`
	AvgBudget float64 `json:"avg_gflops_budget"`
	Bags      int     `json:"bags"`
	// FailedBags counts the bags that gave no result, by reason.
	FailedBags map[string]int `json:"failed_bags,omitempty"`
	Totals     replay.Totals  `json:"totals"`
	// Seconds is the bags' wall time on their workers, added up.
	Seconds float64 `json:"seconds"`
	// Worst lists up to MaxWorst bags, worst first: failed bags, then the
	// most failed steps, then the largest pose error.
	Worst []Worst `json:"worst"`
	// ExitGFLOPs is the cumulative cost of each exit, from the manifest.
	ExitGFLOPs []float64 `json:"exit_gflops"`
}

// Worst is one of a summary's worst bags.
type Worst struct {
	Bag        string   `json:"bag"`
	Error      string   `json:"error,omitempty"`
	StepErrors int      `json:"failed_steps"`
	PoseRMS    *float64 `json:"pose_rms,omitempty"`
}

// summaryAcc is summaryFn's accumulator.
type summaryAcc struct {
	Summary Summary `json:"summary"`
	Worst   []Row   `json:"worst"` // rows without their latency histograms
}

// summaryFn is the Beam combiner of rows into a Summary. Its result does
// not depend on the order rows are added and merged in.
type summaryFn struct {
	ExitGFLOPs []float64
}

func (f *summaryFn) CreateAccumulator() summaryAcc { return summaryAcc{} }

func (f *summaryFn) AddInput(a summaryAcc, r Row) summaryAcc {
	s := &a.Summary
	s.Point, s.AvgBudget = r.Point, r.AvgBudget
	s.Bags++
	s.Seconds += r.Seconds
	if r.Error != "" {
		if s.FailedBags == nil {
			s.FailedBags = map[string]int{}
		}
		s.FailedBags[reasonOf(r.Error)]++
	}
	s.Totals.Add(r.Totals)
	r.Totals.Latency = nil
	a.Worst = keepWorst(append(a.Worst, r))
	return a
}

func (f *summaryFn) MergeAccumulators(a, b summaryAcc) summaryAcc {
	if a.Summary.Bags == 0 {
		return b
	}
	if b.Summary.Bags == 0 {
		return a
	}
	s := &a.Summary
	s.Bags += b.Summary.Bags
	s.Seconds += b.Summary.Seconds
	for k, n := range b.Summary.FailedBags {
		if s.FailedBags == nil {
			s.FailedBags = map[string]int{}
		}
		s.FailedBags[k] += n
	}
	s.Totals.Add(b.Summary.Totals)
	a.Worst = keepWorst(append(a.Worst, b.Worst...))
	return a
}

func (f *summaryFn) ExtractOutput(a summaryAcc) Summary {
	s := a.Summary
	s.ExitGFLOPs = f.ExitGFLOPs
	for _, r := range a.Worst {
		s.Worst = append(s.Worst, Worst{Bag: r.Bag, Error: r.Error, StepErrors: r.Totals.StepErrors, PoseRMS: r.PoseRMS})
	}
	return s
}

func keepWorst(rows []Row) []Row {
	sort.Slice(rows, func(i, j int) bool { return worse(rows[i], rows[j]) })
	return rows[:min(len(rows), MaxWorst)]
}

// reasonOf is the first line of an error, short enough to count by.
func reasonOf(err string) string {
	line, _, _ := strings.Cut(err, "\n")
	if len(line) > 120 {
		line = line[:117] + "..."
	}
	return line
}

// Text renders the summary for a terminal, in the replay report's words.
func (s Summary) Text() string {
	var b strings.Builder
	t := s.Totals
	failed := 0
	for _, n := range s.FailedBags {
		failed += n
	}
	fmt.Fprintf(&b, "fleet replay of %d bags (%d failed)", s.Bags, failed)
	if s.AvgBudget > 0 {
		fmt.Fprintf(&b, " at an average budget of %.4g GFLOPs", s.AvgBudget)
	}
	fmt.Fprintf(&b, "\n  messages read     %d (%d malformed, skipped)\n", t.Messages, t.Malformed)
	fmt.Fprintf(&b, "  actions           %d (%d failed steps)\n", t.Steps, t.StepErrors)
	for _, k := range sortedKeys(t.NotRun) {
		fmt.Fprintf(&b, "  without action    %d images: %s\n", t.NotRun[k], k)
	}
	b.WriteString("  exit histogram   ")
	for i, n := range t.ExitCounts {
		share := 0.0
		if t.Steps > 0 {
			share = 100 * float64(n) / float64(t.Steps)
		}
		fmt.Fprintf(&b, " %d: %d (%.0f%%)", i+1, n, share)
	}
	b.WriteString("\n")
	if len(s.ExitGFLOPs) > 0 && t.Steps > 0 {
		full := s.ExitGFLOPs[len(s.ExitGFLOPs)-1]
		saved := max(0, 100*(1-t.AvgGFLOPs()/full)) // not -0.0 at full depth
		fmt.Fprintf(&b, "  decoder GFLOPs    average %.4g, peak %.4g; full depth %.4g: %.1f%% saved\n", t.AvgGFLOPs(), t.PeakGFLOPs, full, saved)
	}
	if s.AvgBudget > 0 && t.Steps > 0 {
		fmt.Fprintf(&b, "  budget            average %.4g GFLOPs asked, %.4g spent (%.3f of the budget)\n", s.AvgBudget, t.AvgGFLOPs(), t.AvgGFLOPs()/s.AvgBudget)
	}
	if t.Steps > 0 {
		fmt.Fprintf(&b, "  latency ms        median %.3g, 95th percentile %.3g, 99th %.3g\n", t.LatencyMs(50), t.LatencyMs(95), t.LatencyMs(99))
	}
	if t.Compared > 0 {
		fmt.Fprintf(&b, "  against expert    %d actions: pose RMS error %.4f, gripper agreement %.1f%%\n", t.Compared, t.PoseRMS(), 100*t.GripperAgreement())
	}
	for _, k := range sortedKeys(s.FailedBags) {
		fmt.Fprintf(&b, "  failed bags       %d: %s\n", s.FailedBags[k], k)
	}
	for i, w := range s.Worst {
		fmt.Fprintf(&b, "  worst bag %d       %s", i+1, w.Bag)
		switch {
		case w.Error != "":
			fmt.Fprintf(&b, ": failed: %s", reasonOf(w.Error))
		case w.PoseRMS != nil:
			fmt.Fprintf(&b, ": %d failed steps, pose RMS error %.4f", w.StepErrors, *w.PoseRMS)
		default:
			fmt.Fprintf(&b, ": %d failed steps", w.StepErrors)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SweepPoint is the summary as a point of replay's budget-sweep plot.
func (s Summary) SweepPoint() replay.SweepPoint {
	return replay.SweepPoint{Budget: s.AvgBudget, AvgGFLOPs: s.Totals.AvgGFLOPs(), PoseRMS: s.Totals.PoseRMS(), Agreement: s.Totals.GripperAgreement()}
}

// ExitsPlot is the fleet's exit histogram: the share of steps at each exit.
func ExitsPlot(s Summary) *replay.Plot {
	p := &replay.Plot{Title: fmt.Sprintf("Exit taken, %d bags", s.Bags), XLabel: "exit", YLabel: "share of steps", Marks: true}
	for i, n := range s.Totals.ExitCounts {
		p.X = append(p.X, float64(i+1))
		p.Y = append(p.Y, float64(n)/float64(max(s.Totals.Steps, 1)))
	}
	return p
}
