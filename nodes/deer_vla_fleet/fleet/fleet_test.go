package fleet

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/replay"
)

// The fleet's tests run on Prism, inside the test process.
func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

const numBags = 20

// repoRoot is the deer_vla repository (two folders up from this module).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// tools builds the package's own commands once per test run.
func tools(t *testing.T, names ...string) string {
	t.Helper()
	bin := t.TempDir()
	args := []string{"build", "-o", bin + "/"}
	for _, n := range names {
		args = append(args, "github.com/deervla/deer_vla/nodes/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", names, err, out)
	}
	return bin
}

// fleetOfBags has deer_vla_demos write numBags one-episode demonstration
// bags (task families in turn), and adds a corrupt one. It returns the
// good bags and the corrupt bag.
func fleetOfBags(t *testing.T, bin string) (good []string, corrupt string) {
	t.Helper()
	dir := t.TempDir()
	tasks := []string{"reach", "push", "pick", "place"}
	for i := 0; i < numBags; i++ {
		out := filepath.Join(dir, fmt.Sprintf("demo_%02d", i))
		cmd := exec.Command(filepath.Join(bin, "deer_vla_demos"), "-out", out, "-episodes", "1", "-seed", fmt.Sprint(500+i), "-tasks", tasks[i%len(tasks)])
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("deer_vla_demos: %v\n%s", err, b)
		}
		good = append(good, out)
	}
	// A bag cut short mid-chunk, as a failed upload leaves it.
	data, err := os.ReadFile(filepath.Join(good[0], "demo_00_0.mcap"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt = filepath.Join(dir, "corrupt.mcap")
	if err := os.WriteFile(corrupt, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return good, corrupt
}

// testSettings run DeeR under an average budget with a short budget
// window, so that an engine reused across bags would carry the window's
// correction from one bag to the next unless it is restarted.
func testSettings() Settings {
	return Settings{
		Model:     filepath.Join(repoRoot(), "models", "deer_tiny"),
		Overrides: []string{"budget.avg_gflops:=0.0012", "budget.window:=20"},
		Topics:    replay.DefaultTopics,
	}
}

func runFleet(t *testing.T, o Options) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, o); err != nil {
		t.Fatal(err)
	}
	if err := beamx.Run(context.Background(), p); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
}

func TestFleetReplayMatchesSingleReplays(t *testing.T) {
	bin := tools(t, "deer_vla_demos")
	good, corrupt := fleetOfBags(t, bin)
	out := t.TempDir()
	settings := testSettings()
	// Two workers: each engine replays ten bags in turn.
	runFleet(t, Options{Bags: append([]string{corrupt}, good...), Settings: settings, Workers: 2, Out: out, ExitGFLOPs: []float64{1}})
	rows, err := ReadRows(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != numBags+1 {
		t.Fatalf("%d rows, want %d", len(rows), numBags+1)
	}
	byBag := map[string]Row{}
	for _, r := range rows {
		byBag[r.Bag] = r
	}
	if r := byBag[corrupt]; r.Error == "" || r.Totals.Steps != 0 {
		t.Errorf("corrupt bag's row %+v: want an error and no actions", r)
	}

	// Each bag's row is what a single replay of it on a fresh node gives.
	p, err := settings.Params()
	if err != nil {
		t.Fatal(err)
	}
	for _, bag := range good {
		row := byBag[bag]
		if row.Error != "" {
			t.Errorf("%s failed in the fleet: %s", bag, row.Error)
			continue
		}
		node, err := cli.OpenNode(p)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := replay.Run(replay.Config{Bag: bag, Params: p}, node, nil)
		node.Engine().Close()
		if err != nil {
			t.Fatal(err)
		}
		want := rep.Totals()
		got := row.Totals
		want.Latency, got.Latency = nil, nil // wall time differs run to run
		if row.ActionsSHA256 != rep.ActionsSHA256() || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fleet row sha %s totals %+v\nsingle replay sha %s totals %+v", filepath.Base(bag), row.ActionsSHA256, got, rep.ActionsSHA256(), want)
		}
		if rep.Steps == 0 {
			t.Errorf("%s: the single replay took no step", bag)
		}
	}

	// The combiner's summary equals the figures computed from the rows.
	sums, err := ReadSummaries(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 {
		t.Fatalf("%d summaries, want 1", len(sums))
	}
	var fromRows replay.Totals
	var seconds float64
	for _, r := range rows {
		fromRows.Add(r.Totals)
		seconds += r.Seconds
	}
	s := sums[0]
	// Counts are equal; sums of floats may differ in the last bits, as the
	// combiner adds them in another order.
	got := s.Totals
	if !nearlyEqual(got.SumGFLOPs, fromRows.SumGFLOPs) || !nearlyEqual(got.PoseSqErr, fromRows.PoseSqErr) {
		t.Errorf("summary sums GFLOPs %g, pose %g; from the rows %g, %g", got.SumGFLOPs, got.PoseSqErr, fromRows.SumGFLOPs, fromRows.PoseSqErr)
	}
	got.SumGFLOPs, got.PoseSqErr = fromRows.SumGFLOPs, fromRows.PoseSqErr
	if !reflect.DeepEqual(got, fromRows) {
		t.Errorf("summary totals %+v\nfrom the rows  %+v", s.Totals, fromRows)
	}
	if s.Bags != numBags+1 || s.FailedBags[reasonOf(byBag[corrupt].Error)] != 1 || len(s.FailedBags) != 1 {
		t.Errorf("summary: %d bags, failed %v: want %d bags and the corrupt one failed", s.Bags, s.FailedBags, numBags+1)
	}
	sorted := append([]Row(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return worse(sorted[i], sorted[j]) })
	for i, w := range s.Worst {
		if w.Bag != sorted[i].Bag {
			t.Errorf("worst bag %d is %s, the rows say %s", i+1, w.Bag, sorted[i].Bag)
		}
	}
	if len(s.Worst) != MaxWorst || s.Worst[0].Bag != corrupt {
		t.Errorf("worst bags %+v: want %d, the corrupt bag first", s.Worst, MaxWorst)
	}
	if !nearlyEqual(s.Seconds, seconds) {
		t.Errorf("summary seconds %g, rows add up to %g", s.Seconds, seconds)
	}
	if !strings.Contains(s.Text(), "failed bags       1: ") {
		t.Errorf("summary text does not report the failed bag:\n%s", s.Text())
	}
}

func TestFleetCalibrationEqualsDeerVlaCalibrate(t *testing.T) {
	bin := tools(t, "deer_vla_demos", "deer_vla_calibrate")
	good, corrupt := fleetOfBags(t, bin)
	good = good[:8]
	settings := testSettings()
	// deer_vla_calibrate in one process, bags in path order.
	want := filepath.Join(t.TempDir(), "calibration_cosine.csv")
	args := append([]string{"-model", settings.Model, "-p", "exit.metric:=cosine", "-out", want}, good...)
	if b, err := exec.Command(filepath.Join(bin, "deer_vla_calibrate"), args...).CombinedOutput(); err != nil {
		t.Fatalf("deer_vla_calibrate: %v\n%s", err, b)
	}
	wantCSV, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	settings.Overrides = append(settings.Overrides, "exit.metric:=cosine")
	// The fleet, bags given in reverse order with a corrupt one among them,
	// on three workers: the order workers finish in must not matter.
	var bags []string
	for i := len(good) - 1; i >= 0; i-- {
		bags = append(bags, good[i])
	}
	bags = append(bags, corrupt)
	out := t.TempDir()
	runFleet(t, Options{Bags: bags, Settings: settings, Workers: 3, Out: out, Calibrate: true})
	got, err := ReadCalibration(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if got.CSV != string(wantCSV) {
		t.Errorf("fleet calibration differs from deer_vla_calibrate's (%d vs %d bytes)", len(got.CSV), len(wantCSV))
	}
	if got.Bags != len(good) || len(got.Failed) != 1 || !strings.HasPrefix(got.Failed[0], corrupt) {
		t.Errorf("calibration: %d bags, left out %v: want %d and the corrupt bag left out", got.Bags, got.Failed, len(good))
	}
	if p, err := settings.Params(); err != nil || p.Str(control.ParamMetric) != "cosine" {
		t.Fatalf("params: %v", err)
	}
}

// nearlyEqual compares sums of the same floats added in different orders.
func nearlyEqual(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b)) }
