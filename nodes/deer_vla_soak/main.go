// Command deer_vla_soak checks that the node does not grow in memory over
// a long run, which no unit test can show. It is not part of CI: a full run
// takes minutes to hours, depending on the machine.
//
// It replays a bag through the node's control loop (the replay package, as
// deer_vla_replay does) again and again until -steps actions have been
// published, and measures resident memory (VmRSS in /proc/self/status)
// after -warmup steps and at the end; growth of -max-growth percent or
// more fails. Then it opens and closes the engine (model, calibrations and
// ONNX Runtime sessions) -cycles times and reports the growth over those
// cycles the same way.
//
// Before each sample it runs the garbage collector and returns freed pages
// to the operating system, so the figure is live memory, Go and C (ONNX
// Runtime) together, rather than the garbage collector's timing.
//
//	go run ./nodes/deer_vla_soak -bag test/bags/sample_demo -steps 100000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/replay"
)

const synopsis = `
usage: deer_vla_soak [flags]

Replays a bag through the node until -steps actions, failing if resident
memory grows by -max-growth percent or more after warm-up, then opens and
closes the engine -cycles times and reports the growth.`

const exitStatus = `
Exit status: 0 when memory held, 1 when it grew too much or the run
failed, 2 for bad flags.`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		os.Exit(cli.Fail("deer_vla_soak", err))
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("deer_vla_soak", flag.ContinueOnError)
	var pf cli.ParamFlags
	pf.Register(fs)
	bagPath := fs.String("bag", "test/bags/sample_demo", "bag to replay, again and again")
	steps := fs.Int("steps", 100000, "actions to publish")
	warmup := fs.Int("warmup", 2000, "actions before the first memory sample")
	cycles := fs.Int("cycles", 1000, "engine open and close cycles after the replay (0: none)")
	cycleWarmup := fs.Int("cycle-warmup", 50, "cycles before the first memory sample of the cycles")
	maxGrowth := fs.Float64("max-growth", 2, "largest resident memory growth over the replay, in percent, that passes")
	fs.Usage = cli.Usage(fs, synopsis, exitStatus)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *warmup >= *steps || (*cycles > 0 && *cycleWarmup >= *cycles) {
		return cli.UsageErrorf("-warmup must be below -steps and -cycle-warmup below -cycles")
	}
	p, err := pf.Params()
	if err != nil {
		return cli.UsageError{Err: err}
	}

	growth, err := soakSteps(stdout, *bagPath, p, *steps, *warmup)
	if err != nil {
		return err
	}
	if *cycles > 0 {
		if err := soakCycles(stdout, p, *cycles, *cycleWarmup); err != nil {
			return err
		}
	}
	if growth >= *maxGrowth {
		return fmt.Errorf("resident memory grew %.2f%% over the replay, the limit is %g%%", growth, *maxGrowth)
	}
	return nil
}

// soakSteps replays the bag through one node until steps actions and
// returns the resident memory growth after warm-up, in percent.
func soakSteps(w io.Writer, bagPath string, p control.Params, steps, warmup int) (float64, error) {
	node, err := cli.OpenNode(p)
	if err != nil {
		return 0, err
	}
	defer node.Engine().Close()
	start := time.Now()
	done, failed, passes := 0, 0, 0
	var warm int64
	var warmAt time.Duration
	onStep := func(*control.Output) {
		done++
		if done == warmup {
			warm, warmAt = residentBytes(), time.Since(start)
			fmt.Fprintf(w, "replay: warm after %d actions (%s): resident %s\n", done, warmAt.Round(time.Millisecond), mb(warm))
		}
	}
	nextReport := time.Now().Add(time.Minute)
	for done < steps {
		rep, err := replay.Run(replay.Config{Bag: bagPath, Params: p}, node, onStep)
		if err != nil {
			return 0, fmt.Errorf("replay pass %d: %w", passes+1, err)
		}
		if rep.Steps == 0 {
			return 0, fmt.Errorf("replay pass %d of %s published no action", passes+1, bagPath)
		}
		passes++
		failed += rep.StepErrors
		if time.Now().After(nextReport) {
			nextReport = time.Now().Add(time.Minute)
			fmt.Fprintf(w, "replay: %d actions, %d passes, %s, resident %s\n", done, passes, time.Since(start).Round(time.Second), mb(residentBytes()))
		}
	}
	end := residentBytes()
	elapsed := time.Since(start)
	growth := 100 * float64(end-warm) / float64(warm)
	fmt.Fprintf(w, "replay: %d actions (%d failed steps) in %d passes of %s, %s (%.0f actions/s)\n",
		done, failed, passes, bagPath, elapsed.Round(time.Second), float64(done)/elapsed.Seconds())
	fmt.Fprintf(w, "replay: resident %s after %d actions, %s after %d: %+.2f%% over %d actions\n",
		mb(warm), warmup, mb(end), done, growth, done-warmup)
	return growth, nil
}

// soakCycles opens the engine, steps nothing, and closes it, cycles times.
func soakCycles(w io.Writer, p control.Params, cycles, warmup int) error {
	env := control.ProcessEnvironment()
	start := time.Now()
	nextReport := start.Add(time.Minute)
	var warm int64
	for i := 1; i <= cycles; i++ {
		eng, err := control.OpenEngine(p, env)
		if err != nil {
			return fmt.Errorf("engine cycle %d: %w", i, err)
		}
		if err := eng.Close(); err != nil {
			return fmt.Errorf("engine cycle %d: close: %w", i, err)
		}
		if i == warmup {
			warm = residentBytes()
		}
		if time.Now().After(nextReport) {
			nextReport = time.Now().Add(time.Minute)
			fmt.Fprintf(w, "engine: %d cycles, %s, resident %s\n", i, time.Since(start).Round(time.Second), mb(residentBytes()))
		}
	}
	end := residentBytes()
	fmt.Fprintf(w, "engine: %d open/close cycles in %s; resident %s after %d, %s after %d: %+.2f%% over %d cycles (%.1f KB per cycle)\n",
		cycles, time.Since(start).Round(time.Second), mb(warm), warmup, mb(end), cycles,
		100*float64(end-warm)/float64(warm), cycles-warmup, float64(end-warm)/1e3/float64(cycles-warmup))
	return nil
}

// residentBytes returns the process's resident memory after a full garbage
// collection that returns freed pages to the operating system, or 0 when
// /proc/self/status cannot be read (not Linux).
func residentBytes() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
