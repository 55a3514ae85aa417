// Command deer_vla_replay plays a rosbag2 bag through the deer_vla node's
// control loop without ROS, on the bag's time, and prints a report: steps,
// exit histogram, GFLOPs saved against full depth, latency percentiles,
// budget adherence and, when the bag holds expert actions, the action
// error against them. It can write an output bag (inputs, actions, step
// records) for Foxglove, SVG plots, and sweep the average budget.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/replay"
)

const synopsis = `
usage: deer_vla_replay -bag BAG [flags]

Replays BAG (a rosbag2 folder, .mcap or .db3) through the node's control
loop with the model and parameters given, and prints a report.`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deer_vla_replay:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("deer_vla_replay", flag.ContinueOnError)
	var pf cli.ParamFlags
	pf.Register(fs)
	bagPath := fs.String("bag", "", "input bag (required)")
	out := fs.String("out", "", "write an output bag (inputs, /action, /deer_vla/step_stats) to this new folder")
	plots := fs.String("plots", "", "write exits.svg (and sweep.svg with -sweep) to this folder")
	sweep := fs.Int("sweep", 0, "also replay at this many average budgets between exit 1's cost and full depth (needs a calibration)")
	fs.Usage = cli.Usage(fs, synopsis)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bagPath == "" {
		fs.Usage()
		return fmt.Errorf("-bag is required")
	}
	p, err := pf.Params()
	if err != nil {
		return err
	}
	var progress io.Writer
	if cli.Interactive() {
		progress = os.Stderr
	}
	rep, err := replayOnce(*bagPath, p, *out, progress)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.Text())
	if *plots != "" {
		if err := os.MkdirAll(*plots, 0o755); err != nil {
			return err
		}
		if err := writePlot(filepath.Join(*plots, "exits.svg"), rep.ExitsPlot()); err != nil {
			return err
		}
	}
	if *sweep > 0 {
		points, err := sweepBudgets(*bagPath, p, rep, *sweep, stdout)
		if err != nil {
			return err
		}
		if *plots != "" {
			return writePlot(filepath.Join(*plots, "sweep.svg"), replay.SweepPlot(points))
		}
	}
	return nil
}

func replayOnce(bagPath string, p control.Params, out string, progress io.Writer) (*replay.Report, error) {
	node, err := cli.OpenNode(p)
	if err != nil {
		return nil, err
	}
	defer node.Engine().Close()
	return replay.Run(replay.Config{Bag: bagPath, Params: p, OutBag: out, Progress: progress}, node, nil)
}

// sweepBudgets replays at n average budgets spread over the model's range.
func sweepBudgets(bagPath string, p control.Params, base *replay.Report, n int, stdout io.Writer) ([]replay.SweepPoint, error) {
	lo, hi := base.ExitGFLOPs[0], base.FullGFLOPs()
	fmt.Fprintf(stdout, "\nbudget sweep (average GFLOPs budget -> realised, pose RMS vs expert, gripper agreement)\n")
	var points []replay.SweepPoint
	for i := 0; i < n; i++ {
		budget := lo + (hi-lo)*float64(i)/float64(max(n-1, 1))
		q, err := p.With(map[string]control.Value{control.ParamAvgGFLOPs: control.Double(budget), control.ParamThresholds: control.Doubles(nil)}, false)
		if err != nil {
			return nil, err
		}
		rep, err := replayOnce(bagPath, q, "", nil)
		if err != nil {
			return nil, err
		}
		pt := replay.SweepPoint{Budget: budget, AvgGFLOPs: rep.AvgGFLOPs(), PoseRMS: rep.PoseRMS(), Agreement: rep.GripperAgreement()}
		fmt.Fprintf(stdout, "  %.4g -> %.4g GFLOPs (%.2fx less than full), pose RMS %.4f, gripper %.1f%%\n",
			budget, pt.AvgGFLOPs, hi/pt.AvgGFLOPs, pt.PoseRMS, 100*pt.Agreement)
		points = append(points, pt)
	}
	return points, nil
}

func writePlot(path string, p *replay.Plot) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
