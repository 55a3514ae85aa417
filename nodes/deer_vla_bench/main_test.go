package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/nodes/internal/simloop"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/sim"
)

// TestQuickBench runs the benchmark's short mode: one episode per family,
// every configuration, the shipped model and calibration.
func TestQuickBench(t *testing.T) {
	root := simloop.RepoRoot()
	lib := simloop.LibraryUnder(root)
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("ONNX Runtime not found (%v): run scripts/fetch_onnxruntime.sh or set ONNXRUNTIME_SHARED_LIBRARY_PATH", err)
	}
	model := filepath.Join(root, "models", "deer_tiny")
	if _, err := os.Stat(filepath.Join(model, policy.CalibrationFile)); err != nil {
		t.Fatal(err)
	}
	// Every shipped calibration; the exits-alone rows only with the first
	// (alone false leaves them out).
	for i, metric := range []policy.Metric{policy.MetricRMS, policy.MetricRMSGripper, policy.MetricCosine} {
		alone := i == 0
		b := &bench{model: model, library: lib, threads: 1, episodes: 1, seed: 900000, tasks: sim.AllTasks[:],
			alone: alone, metric: metric, calibration: filepath.Join(model, policy.CalibrationFileFor(metric))}
		var out bytes.Buffer
		if err := b.run(&out, []float64{0.335}, 2); err != nil {
			t.Fatalf("%s: %v", metric, err)
		}
		for _, want := range []string{"full depth", "DeeR avg 0.335", "overall %"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: table lacks %q:\n%s", metric, want, out.String())
			}
		}
		if got := strings.Contains(out.String(), "exit 1 only"); got != alone {
			t.Errorf("%s: alone %v, table has the exit 1 row: %v:\n%s", metric, alone, got, out.String())
		}
		t.Log("\n" + out.String())
	}
}

// TestCheapestMatch: the cheapest row within the match margin wins; rows
// below the margin never do, however cheap.
func TestCheapestMatch(t *testing.T) {
	row := func(name string, successes int, gflops float64) *result {
		return &result{name: name, success: []int{successes}, n: []int{100}, gflops: gflops, steps: 1}
	}
	full := row("full", 90, 6)
	rs := []*result{row("cheap but worse", 87, 1), row("deep", 91, 4), row("matching", 88, 2)}
	if got := cheapestMatch(rs, full, 2); got == nil || got.name != "matching" {
		t.Fatalf("got %v, want the row \"matching\"", got)
	}
	if got := cheapestMatch(rs[:1], full, 2); got != nil {
		t.Fatalf("got %q, want none within 2 points", got.name)
	}
}

// TestDeerRowsCalibration: a missing calibration skips the DeeR rows with a
// note; a corrupt one stops the benchmark with its path.
func TestDeerRowsCalibration(t *testing.T) {
	root := simloop.RepoRoot()
	model := filepath.Join(root, "models", "deer_tiny")
	b := &bench{model: model, library: simloop.LibraryUnder(root), threads: 1, episodes: 1, seed: 900000,
		tasks: []sim.TaskKind{sim.TaskReach}, metric: policy.MetricCosine, calibration: filepath.Join(t.TempDir(), "none.csv")}
	var out bytes.Buffer
	if err := b.run(&out, []float64{0.3}, 2); err != nil || !strings.Contains(out.String(), "DeeR rows skipped") ||
		strings.Contains(out.String(), "DeeR avg") {
		t.Fatalf("missing calibration: %v\n%s", err, out.String())
	}
	b.calibration = filepath.Join(t.TempDir(), "corrupt.csv")
	os.WriteFile(b.calibration, []byte("not a calibration\n"), 0o644)
	if err := b.run(&out, []float64{0.3}, 2); err == nil || !strings.Contains(err.Error(), "corrupt.csv") {
		t.Fatalf("corrupt calibration: %v", err)
	}
}

// TestFailuresListEveryFailedEpisode: with -failures, every episode a row
// failed gets one line (configuration, family, seed, steps, steps per exit,
// shortfall), and successes get none. The untrained test model fails most
// episodes; the shipped one succeeds at most.
func TestFailuresListEveryFailedEpisode(t *testing.T) {
	root := simloop.RepoRoot()
	for _, name := range []string{"tiny_test", "deer_tiny"} {
		var lines bytes.Buffer
		b := &bench{model: filepath.Join(root, "models", name), library: simloop.LibraryUnder(root), threads: 1, episodes: 2,
			seed: 900000, tasks: sim.AllTasks[:], quick: true, failures: &lines}
		var out bytes.Buffer
		if err := b.run(&out, nil, 2); err != nil {
			t.Fatal(err)
		}
		perRow := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
			if l == "" {
				continue
			}
			f := strings.Split(l, "\t")
			if len(f) != 7 || !strings.HasPrefix(f[2], "seed ") || !strings.HasSuffix(f[3], " steps") || !strings.HasPrefix(f[4], "exits ") ||
				f[5] == "" || f[5] == sim.ShortfallNone || f[6] == "" {
				t.Fatalf("%s: malformed failure line %q", name, l)
			}
			if _, err := parseTasks(f[1]); err != nil {
				t.Fatalf("%s: failure line %q: %v", name, l, err)
			}
			perRow[f[0]]++
		}
		// The table's overall rate of each row gives its failures.
		for _, row := range []string{"full depth", "exit 1 only"} {
			rate := tableOverall(t, out.String(), row)
			want := int(math.Round(float64(2*len(sim.AllTasks)) * (100 - rate) / 100))
			if perRow[row] != want {
				t.Errorf("%s, %s: %d failure lines, the table's %.1f%% success means %d:\n%s", name, row, perRow[row], rate, want, lines.String())
			}
		}
		// The summary table after the main one counts the same failures
		// by kind: its columns sum to each row's failures.
		_, summary, ok := strings.Cut(out.String(), "failed episodes by what they lacked")
		if !ok {
			t.Fatalf("%s: no failure summary:\n%s", name, out.String())
		}
		var sums [2]int
		for _, l := range strings.Split(summary, "\n")[1:] {
			f := strings.Fields(l)
			if len(f) < 3 || !strings.Contains(l, ": ") {
				break
			}
			for i := range sums {
				n, err := strconv.Atoi(f[len(f)-2+i])
				if err != nil {
					t.Fatalf("%s: summary line %q: %v", name, l, err)
				}
				sums[i] += n
			}
		}
		if sums[0] != perRow["full depth"] || sums[1] != perRow["exit 1 only"] {
			t.Errorf("%s: summary counts %v, failure lines %d and %d:\n%s", name, sums, perRow["full depth"], perRow["exit 1 only"], out.String())
		}
		if name == "tiny_test" && perRow["full depth"] == 0 {
			t.Errorf("the untrained model failed no episode: the test checks nothing")
		}
	}
}

// tableOverall reads a row's overall success (percent) from the table.
func tableOverall(t *testing.T, table, row string) float64 {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), row)); strings.HasPrefix(strings.TrimSpace(l), row) && len(f) > 4 {
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				t.Fatalf("row %q: %v", row, err)
			}
			return v
		}
	}
	t.Fatalf("no row %q in:\n%s", row, table)
	return 0
}
