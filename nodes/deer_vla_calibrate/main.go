// Command deer_vla_calibrate runs every exit of a model on demonstration
// steps (rosbag2 bags, read like the replay reads them) and writes each
// exit's distance values to a calibration file beside the model, never
// into the model's own files. The average-GFLOPs budget is solved from it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/replay"
)

const synopsis = `
usage: deer_vla_calibrate [flags] BAG...

Runs the model at full depth over the demonstration bags (read as
deer_vla_replay reads them; -remap for other topic names) and writes the
distance of every exit at every step, with the metric of exit.metric, to the
model folder's calibration for that metric (calibration.csv for rms,
calibration_<metric>.csv for the others) or to -out. The node loads every
calibration in the model folder, one per metric.`

const epilogue = `
Exit status: 0 written, 1 failed (including bags that gave no step), 2 bad flags.

Example:
  deer_vla_calibrate -model models/deer_tiny -p exit.metric:=cosine /tmp/deer/calib`

func main() {
	if err := run(os.Args[1:]); err != nil {
		os.Exit(cli.Fail("deer_vla_calibrate", err))
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("deer_vla_calibrate", flag.ContinueOnError)
	var pf cli.ParamFlags
	pf.Register(fs)
	var remaps []string
	cli.RegisterRemaps(fs, &remaps)
	out := fs.String(cli.FlagOut, "", "calibration `FILE` to write (default: in the model folder, calibration.csv for metric rms, calibration_<metric>.csv for the others)")
	fs.Usage = cli.Usage(fs, synopsis, epilogue)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return cli.UsageError{Err: fmt.Errorf("give at least one demonstration bag")}
	}
	p, err := pf.Params()
	if err != nil {
		return cli.UsageError{Err: err}
	}
	topics, err := replay.Topics{}.Remap(remaps)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	// Full depth: every exit is evaluated and its distance recorded.
	if p, err = control.FullDepth(p); err != nil {
		return err
	}
	metric, _ := policy.ParseMetric(p.Str(control.ParamMetric))
	dir, err := control.ProcessEnvironment().ModelDir(p)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(dir, policy.CalibrationFileFor(metric))
	}
	var cal *policy.Calibration
	for _, bagPath := range fs.Args() {
		node, err := cli.OpenNode(p)
		if err != nil {
			return err
		}
		if cal == nil {
			cal = &policy.Calibration{Model: node.Engine().Manifest().Name, Metric: metric}
		}
		rep, err := replay.Calibrate(replay.Config{Bag: bagPath, Topics: topics, Params: p}, node, cal)
		node.Engine().Close()
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d steps (%d malformed messages, %d failed steps)\n", bagPath, rep.Steps, rep.Malformed, rep.StepErrors)
		if err := rep.Check(); err != nil {
			return fmt.Errorf("%s: %w", bagPath, err)
		}
	}
	if err := policy.WriteCalibration(*out, cal); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d steps x %d exits, metric %s\n", *out, cal.Steps(), len(cal.Values), metric)
	return nil
}
