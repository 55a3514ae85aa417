package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Output files, in Options.Out.
const (
	RowsFile        = "rows.jsonl"   // one Row per bag and sweep point
	SummaryFile     = "summary.json" // the Summary of each sweep point, point 0 first
	CalibrationFile = "calibration.json"
)

// Options are one fleet run.
type Options struct {
	// Bags are the bags (see ExpandBags): local paths, or URLs of Beam's
	// file systems.
	Bags []string
	// Settings are the node's parameters and topics for every bag.
	Settings Settings
	// Budgets are the sweep's average budgets: point i+1 replays every bag
	// at Budgets[i]; point 0 always replays with the parameters as given.
	Budgets []float64
	// Workers > 0 splits the bags into that many groups, each replayed in
	// turn by one DoFn instance (one engine): the most workers the stage
	// can use. 0 gives every bag its own group and lets the runner decide.
	Workers int
	// ExitGFLOPs are the model's exit costs, for the summaries.
	ExitGFLOPs []float64
	// Out is the folder (local or a Beam file system URL) the rows and
	// summaries are written to.
	Out string
	// Calibrate, instead of replaying, measures every exit's distance at
	// every step at full depth and writes the calibration to Out.
	Calibrate bool
}

func init() {
	register.DoFn4x0[context.Context, int, func(*Job) bool, func(Row)](&replayFn{})
	register.DoFn4x0[context.Context, int, func(*Job) bool, func(BagDistances)](&calibrateFn{})
	register.Combiner3[summaryAcc, Row, Summary](&summaryFn{})
	register.Combiner3[calibrationAcc, BagDistances, CalibrationResult](&calibrationFn{})
	register.DoFn2x0[[]byte, func(string)](&encodeJSONFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeFileFn{})
	register.Function1x2(byPoint)
	register.Function1x2(shardOf)
	register.Function1x2(rowBytes)
	register.Function2x1(summaryJSON)
	register.Function1x1(calibrationJSON)
	register.Emitter1[Row]()
	register.Emitter1[BagDistances]()
	register.Emitter1[string]()
	register.Iter1[Job]()
	register.Iter1[string]()
}

// Build adds the fleet's transforms to the pipeline's scope.
func Build(s beam.Scope, o Options) error {
	if len(o.Bags) == 0 {
		return fmt.Errorf("fleet: no bags")
	}
	if o.Out == "" {
		return fmt.Errorf("fleet: no output folder")
	}
	var jobs []Job
	points := []float64{0}
	if !o.Calibrate {
		points = append(points, o.Budgets...)
	}
	for p, budget := range points {
		for _, bag := range o.Bags {
			shard := len(jobs)
			if o.Workers > 0 {
				shard %= o.Workers
			}
			jobs = append(jobs, Job{Bag: bag, Point: p, Budget: budget, Shard: shard})
		}
	}
	groups := beam.GroupByKey(s, beam.ParDo(s, shardOf, beam.CreateList(s, jobs)))
	if o.Calibrate {
		dists := beam.ParDo(s.Scope("calibrate"), &calibrateFn{Settings: o.Settings}, groups)
		cal := beam.Combine(s, &calibrationFn{}, dists)
		writeOne(s, o.Out, CalibrationFile, beam.ParDo(s, calibrationJSON, cal))
		return nil
	}
	rows := beam.ParDo(s.Scope("replay"), &replayFn{Settings: o.Settings}, groups)
	writeOne(s, o.Out, RowsFile, beam.ParDo(s, &encodeJSONFn{}, beam.ParDo(s, rowBytes, rows)))
	sums := beam.CombinePerKey(s, &summaryFn{ExitGFLOPs: o.ExitGFLOPs}, beam.ParDo(s, byPoint, rows))
	writeOne(s, o.Out, SummaryFile, beam.ParDo(s, summaryJSON, sums))
	return nil
}

func shardOf(j Job) (int, Job) { return j.Shard, j }

func byPoint(r Row) (int, Row) { return r.Point, r }

func rowBytes(r Row) ([]byte, error) { return json.Marshal(r) }

// encodeJSONFn turns encoded rows into lines.
type encodeJSONFn struct{}

func (encodeJSONFn) ProcessElement(b []byte, emit func(string)) { emit(string(b)) }

func summaryJSON(point int, s Summary) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func calibrationJSON(c CalibrationResult) string {
	b, _ := json.Marshal(c)
	return string(b)
}

// writeOne gathers lines into one file, name, in the folder out: the rows,
// the summaries or the calibration. Lines are sorted, so the file does not
// depend on the order workers finished in.
func writeOne(s beam.Scope, out, name string, lines beam.PCollection) {
	s = s.Scope("write " + name)
	keyed := beam.AddFixedKey(s, lines)
	beam.ParDo0(s, &writeFileFn{Path: strings.TrimSuffix(out, "/") + "/" + name}, beam.GroupByKey(s, keyed))
}

// writeFileFn writes the lines of its one group to Path, through Beam's
// file system for the path's scheme.
type writeFileFn struct {
	Path string
}

func (f *writeFileFn) ProcessElement(ctx context.Context, _ int, lines func(*string) bool) error {
	var all []string
	var l string
	for lines(&l) {
		all = append(all, l)
	}
	sort.Strings(all)
	fs, err := filesystem.New(ctx, f.Path)
	if err != nil {
		return err
	}
	defer fs.Close()
	data := strings.Join(all, "\n")
	if data != "" {
		data += "\n"
	}
	if !remote(f.Path) {
		if err := os.MkdirAll(path.Dir(f.Path), 0o755); err != nil {
			return err
		}
	}
	return filesystem.Write(ctx, fs, f.Path, []byte(data))
}
