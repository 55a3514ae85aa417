// Command deer_vla_fleet replays a fleet's rosbag2 bags through the
// deer_vla node's control loop, or calibrates a model from them, as an
// Apache Beam pipeline: in this process on the Prism runner by default,
// on Flink, Spark or Dataflow with --runner. Each bag goes through the same
// code as deer_vla_replay, so its actions have the same SHA-256 as a
// single replay of it. See README.md, "Fleet replay on Apache Beam".
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/nodes/deer_vla_fleet/fleet"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/replay"
)

const synopsis = `
usage: deer_vla_fleet [flags] BAG...

Replays every BAG (rosbag2 folders, .mcap or .db3 files; globs allowed;
local paths or gs://, s3:// URLs) through the node's control loop with the
model and parameters given, as an Apache Beam pipeline, and writes one row
per bag (rows.jsonl) and a combined summary (summary.json) to -out. With
-calibrate FILE it instead measures every exit's distance at every step of
every bag, at full depth, and writes the calibration to FILE.

The runner is Prism, inside this process, unless --runner says otherwise
(flink, spark, dataflow, universal with --endpoint; see README.md).
Parameters, model and -remap are taken exactly as deer_vla_replay takes them.

Exit status: 0 when the pipeline ran and at least one bag replayed (failed
bags are reported, not fatal), 1 when it failed or no bag replayed, 2 for
bad flags.`

func main() {
	flag.Usage = usage
	beamFlags := map[string]bool{}
	flag.VisitAll(func(f *flag.Flag) { beamFlags[f.Name] = true })
	ours = func(name string) bool { return !beamFlags[name] }
	var pf cli.ParamFlags
	pf.Register(flag.CommandLine)
	var remaps []string
	cli.RegisterRemaps(flag.CommandLine, &remaps)
	out := flag.String("out", "fleet_out", "folder for rows.jsonl and summary.json (local or a Beam file system URL)")
	plots := flag.String("plots", "", "write exits.svg (and sweep.svg with -sweep) to this local folder")
	sweep := flag.Int("sweep", 0, "also replay every bag at this many average budgets between exit 1's cost and full depth (needs a calibration)")
	calibrate := flag.String("calibrate", "", "calibrate instead of replaying: write every exit's distance at every step to this calibration file")
	workers := flag.Int("workers", 0, "split the bags into this many groups, one engine each (0: one group per bag, the runner decides)")
	flag.Parse()
	// On a distributed runner this same binary is the worker: beam.Init
	// then runs the worker and does not return.
	beam.Init()
	ctx := context.Background()
	code, err := run(ctx, pf, remaps, *out, *plots, *sweep, *calibrate, *workers, flag.Args(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deer_vla_fleet:", err)
	}
	os.Exit(code)
}

// ours tells the command's own flags from the many that Apache Beam
// registers (runner, endpoint, environment, Dataflow's, ...).
var ours = func(string) bool { return true }

func usage() {
	w := flag.CommandLine.Output()
	fmt.Fprintf(w, "%s\n\nFlags:\n", synopsis[1:])
	flag.VisitAll(func(f *flag.Flag) {
		if ours(f.Name) {
			name, use := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s %s\n    \t%s\n", f.Name, name, use)
		}
	})
	fmt.Fprintf(w, "\nApache Beam's pipeline flags are accepted too: --runner (default prism), --endpoint,\n--environment_type, --environment_config, --job_name, --parallelism (Flink), and\nDataflow's --project, --region, --staging_location, --temp_location, --sdk_container_image.\n")
	fmt.Fprintf(w, "\nParameters (-p name:=value, or -params FILE):\n%s", control.Help())
}

func run(ctx context.Context, pf cli.ParamFlags, remaps []string, out, plots string, sweep int, calibrate string, workers int, args []string, stdout io.Writer) (int, error) {
	if len(args) == 0 {
		flag.Usage()
		return 2, fmt.Errorf("give at least one bag")
	}
	bags, err := fleet.ExpandBags(ctx, args)
	if err != nil {
		return 2, err
	}
	settings, err := settingsOf(pf, remaps)
	if err != nil {
		return 2, err
	}
	p, err := settings.Params()
	if err != nil {
		return 2, err
	}
	dir, err := control.ProcessEnvironment().ModelDir(p)
	if err != nil {
		return 2, err
	}
	m, err := policy.LoadManifest(dir)
	if err != nil {
		return 1, err
	}
	o := fleet.Options{Bags: bags, Settings: settings, Workers: workers, Out: out, Calibrate: calibrate != ""}
	for _, e := range m.Exits {
		o.ExitGFLOPs = append(o.ExitGFLOPs, e.GFLOPs)
	}
	lo, hi := o.ExitGFLOPs[0], o.ExitGFLOPs[len(o.ExitGFLOPs)-1]
	for i := 0; i < sweep; i++ {
		o.Budgets = append(o.Budgets, lo+(hi-lo)*float64(i)/float64(max(sweep-1, 1)))
	}
	pipe, s := beam.NewPipelineWithRoot()
	if err := fleet.Build(s, o); err != nil {
		return 2, err
	}
	start := time.Now()
	if err := beamx.Run(ctx, pipe); err != nil {
		return 1, fmt.Errorf("pipeline: %w", err)
	}
	wall := time.Since(start)
	if o.Calibrate {
		return writeCalibration(ctx, out, calibrate, stdout)
	}
	sums, err := fleet.ReadSummaries(ctx, out)
	if err != nil {
		return 1, err
	}
	for _, sum := range sums {
		fmt.Fprint(stdout, sum.Text())
	}
	fmt.Fprintf(stdout, "wrote %s/%s and %s/%s in %.1f s (%.2f bags/s)\n", out, fleet.RowsFile, out, fleet.SummaryFile, wall.Seconds(), float64(len(bags)*(1+sweep))/wall.Seconds())
	if plots != "" {
		if err := writePlots(plots, sums); err != nil {
			return 1, err
		}
		fmt.Fprintf(stdout, "plots in %s\n", plots)
	}
	if sums[0].Bags == sumFailed(sums[0]) {
		return 1, fmt.Errorf("no bag replayed")
	}
	return 0, nil
}

// settingsOf carries the command line's parameters to the workers: the
// -params file's content rather than its path, which a worker may lack.
func settingsOf(pf cli.ParamFlags, remaps []string) (fleet.Settings, error) {
	topics, err := replay.Topics{}.Remap(remaps)
	if err != nil {
		return fleet.Settings{}, err
	}
	s := fleet.Settings{Overrides: pf.Overrides, Model: pf.Model, Library: pf.Library, Topics: topics}
	if pf.File != "" {
		b, err := os.ReadFile(pf.File)
		if err != nil {
			return s, err
		}
		s.ParamsYAML = string(b)
	}
	return s, nil
}

func sumFailed(s fleet.Summary) int {
	n := 0
	for _, k := range s.FailedBags {
		n += k
	}
	return n
}

func writeCalibration(ctx context.Context, out, path string, stdout io.Writer) (int, error) {
	c, err := fleet.ReadCalibration(ctx, out)
	if err != nil {
		return 1, err
	}
	for _, f := range c.Failed {
		fmt.Fprintf(stdout, "left out: %s\n", f)
	}
	if c.CSV == "" {
		return 1, fmt.Errorf("no bag gave calibration steps")
	}
	if err := os.WriteFile(path, []byte(c.CSV), 0o644); err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "wrote %s: %d steps from %d bags (%d left out)\n", path, c.Steps, c.Bags, len(c.Failed))
	return 0, nil
}

func writePlots(dir string, sums []fleet.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := fleet.ExitsPlot(sums[0]).WriteFile(filepath.Join(dir, "exits.svg")); err != nil {
		return err
	}
	if len(sums) < 2 {
		return nil
	}
	var points []replay.SweepPoint
	for _, s := range sums[1:] {
		points = append(points, s.SweepPoint())
	}
	return replay.SweepPlot(points).WriteFile(filepath.Join(dir, "sweep.svg"))
}
