// Command deer_vla_replay plays a rosbag2 bag through the deer_vla node's
// control loop without ROS, on the bag's time, and prints a report: actions
// per exit, GFLOPs saved against full depth, step time percentiles,
// budget adherence, the images that got no action and why, and, when the
// bag holds expert actions, the action error against them. It can write
// an output bag (inputs, actions, step records) for Foxglove or `ros2 bag
// play`, SVG plots, and sweep the average budget. Its exit status says
// whether any action came out (see usage).
package main

import (
	"errors"
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
usage: deer_vla_replay [flags] BAG
       deer_vla_replay -bag BAG [flags]

Replays BAG (a rosbag2 folder, .mcap or .db3) through the node's control
loop, with the model and parameters given, on the bag's time, and prints a
report. It reads /static_image and /gripper_image (sensor_msgs/Image, or
<topic>/compressed), /instruction (std_msgs/String) and, when present,
/expert_action (deer_vla_msgs/Action) to compare with; -remap reads them
from other topics of the bag.`

const exitStatus = `
Exit status:
  0  at least one action came out
  1  the replay could not run: unreadable bag, model or output
  2  bad flags or arguments
  3  no step ran: the report says why (e.g. a missing topic, no instruction)
  4  steps ran, and every one failed (the report lists the errors)

Examples:
  deer_vla_replay -params params/deer_vla.yaml -p budget.avg_gflops:=0.001 test/bags/sample_demo
  deer_vla_replay -remap /static_image:=/cam/front/image_raw -remap /gripper_image:=/cam/wrist/image_raw BAG
  deer_vla_replay -out replayed.mcap BAG     # one MCAP file; -out DIR writes a rosbag2 folder`

// Exit statuses beyond cli's.
const (
	exitNoStep    = 3
	exitAllFailed = 4
)

func main() {
	os.Exit(exitCode(run(os.Args[1:], os.Stdout, os.Stderr)))
}

// exitCode prints err, if any, and returns the exit status for it.
func exitCode(err error) int {
	switch {
	case errors.Is(err, replay.ErrNoStep):
		fmt.Fprintln(os.Stderr, "deer_vla_replay:", err)
		return exitNoStep
	case errors.Is(err, replay.ErrAllFailed):
		fmt.Fprintln(os.Stderr, "deer_vla_replay:", err)
		return exitAllFailed
	case err != nil:
		return cli.Fail("deer_vla_replay", err)
	}
	return cli.ExitOK
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deer_vla_replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf cli.ParamFlags
	pf.Register(fs)
	var remaps []string
	cli.RegisterRemaps(fs, &remaps)
	bagPath := fs.String("bag", "", "input `BAG` (or give it as the argument)")
	out := fs.String(cli.FlagOut, "", "write the inputs (with their recorded QoS), /action and /deer_vla/step_stats to this new output `PATH`: a single MCAP file when it ends in .mcap, else a rosbag2 bag folder")
	plots := fs.String("plots", "", "write exits.svg (and sweep.svg with -sweep) to this folder `DIR`")
	sweep := fs.Int("sweep", 0, "also replay at this many average budgets between exit 1's cost and full depth (needs a calibration)")
	fs.Usage = cli.Usage(fs, synopsis, exitStatus)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case *bagPath == "" && fs.NArg() == 1:
		*bagPath = fs.Arg(0)
	case *bagPath == "" || fs.NArg() > 0:
		fs.Usage()
		return cli.UsageError{Err: fmt.Errorf("give one bag, as the argument or with -bag")}
	}
	p, err := pf.Params()
	if err != nil {
		return cli.UsageError{Err: err}
	}
	topics, err := replay.Topics{}.Remap(remaps)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	var progress io.Writer
	if cli.Interactive() {
		progress = os.Stderr
	}
	cfg := replay.Config{Bag: *bagPath, Topics: topics, Params: p, OutBag: *out, Progress: progress}
	rep, err := replayOnce(cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.Text())
	if *out != "" {
		fmt.Fprintf(stdout, "output bag: %s\n", *out)
	}
	if err := rep.Check(); err != nil {
		return err
	}
	if *plots != "" {
		if err := os.MkdirAll(*plots, 0o755); err != nil {
			return err
		}
		if err := writePlot(stdout, filepath.Join(*plots, "exits.svg"), rep.ExitsPlot()); err != nil {
			return err
		}
	}
	if *sweep > 0 {
		points, err := sweepBudgets(cfg, rep, *sweep, stdout)
		if err != nil {
			return err
		}
		if *plots != "" {
			return writePlot(stdout, filepath.Join(*plots, "sweep.svg"), replay.SweepPlot(points))
		}
	}
	return nil
}

// replayOnce opens the node with cfg.Params and replays cfg.Bag.
func replayOnce(cfg replay.Config) (*replay.Report, error) {
	return replay.Bag(cfg, control.ProcessEnvironment())
}

// sweepBudgets replays at n average budgets spread over the model's range.
func sweepBudgets(cfg replay.Config, base *replay.Report, n int, stdout io.Writer) ([]replay.SweepPoint, error) {
	lo, hi := base.ExitGFLOPs[0], base.FullGFLOPs()
	fmt.Fprintf(stdout, "\nbudget sweep: average GFLOPs budget asked -> realised average, pose error (RMS) against the expert, gripper command agreement\n")
	var points []replay.SweepPoint
	for i := 0; i < n; i++ {
		budget := lo + (hi-lo)*float64(i)/float64(max(n-1, 1))
		q, err := cfg.Params.With(map[string]control.Value{control.ParamAvgGFLOPs: control.Double(budget), control.ParamThresholds: control.Doubles(nil)}, false)
		if err != nil {
			return nil, err
		}
		c := cfg
		c.Params, c.OutBag, c.Progress = q, "", nil
		rep, err := replayOnce(c)
		if err != nil {
			return nil, err
		}
		if err := rep.Check(); err != nil {
			return nil, fmt.Errorf("sweep at budget %.4g: %w", budget, err)
		}
		pt := replay.SweepPoint{Budget: budget, AvgGFLOPs: rep.AvgGFLOPs(), PoseRMS: rep.PoseRMS(), Agreement: rep.GripperAgreement()}
		vsExpert := "no expert actions to compare with"
		if rep.Compared() > 0 {
			vsExpert = fmt.Sprintf("pose error %.4f, gripper agrees %.1f%%", pt.PoseRMS, 100*pt.Agreement)
		}
		less := "full depth's compute"
		if ratio := hi / pt.AvgGFLOPs; ratio >= 1.005 {
			less = fmt.Sprintf("%.2fx less than full depth", ratio)
		}
		fmt.Fprintf(stdout, "  %.4g -> %.4g GFLOPs (%s), %s\n", budget, pt.AvgGFLOPs, less, vsExpert)
		points = append(points, pt)
	}
	return points, nil
}

// writePlot writes p as SVG to path and says where.
func writePlot(stdout io.Writer, path string, p *replay.Plot) error {
	if err := p.WriteFile(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "plot: %s (%s)\n", path, p.Title)
	return nil
}
