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

Runs the model at full depth over the demonstration bags and writes the
distance of every exit at every step, with the metric of exit.metric, to the
model folder's calibration for that metric (calibration.csv for rms,
calibration_<metric>.csv for the others) or to -out. The node loads every
calibration in the model folder, one per metric.`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deer_vla_calibrate:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("deer_vla_calibrate", flag.ContinueOnError)
	var pf cli.ParamFlags
	pf.Register(fs)
	out := fs.String("out", "", "calibration file to write (default: in the model folder, calibration.csv for metric rms, calibration_<metric>.csv for the others)")
	fs.Usage = cli.Usage(fs, synopsis)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("give at least one demonstration bag")
	}
	p, err := pf.Params()
	if err != nil {
		return err
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
		rep, err := replay.Calibrate(replay.Config{Bag: bagPath, Params: p}, node, cal)
		node.Engine().Close()
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d steps (%d malformed messages, %d failed steps)\n", bagPath, rep.Steps, rep.Malformed, rep.StepErrors)
	}
	if cal.Steps() == 0 {
		return fmt.Errorf("no steps in the bags: check the topics (%s, %s)", replay.DefaultTopics.Static, replay.DefaultTopics.Instruction)
	}
	if err := policy.WriteCalibration(*out, cal); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d steps x %d exits, metric %s\n", *out, cal.Steps(), len(cal.Values), metric)
	return nil
}
