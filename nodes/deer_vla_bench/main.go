// Command deer_vla_bench is the closed-loop compute-vs-success benchmark of
// DeeR early exit: the sim package with the Go engine (ONNX Runtime) in the
// loop, over fixed seeded evaluation episodes (seeds from -seed on, disjoint
// from the training seeds of tools/train).
//
// Each step the sim's camera images go to the engine as rgb8 images with
// the episode's instruction; the engine's action drives the sim; every new
// episode resets the engine. It prints, for full depth, for each exit used
// alone (a peak budget capped at that exit) and for DeeR at several average
// budgets (thresholds solved from the model's calibration for -metric):
// the success rate per task family and overall, and the average and peak
// decoder GFLOPs per action. It ends with the compute ratio at which DeeR
// matches full-depth success within -match points.
//
// Calibration (writes the model folder's calibration for -metric,
// calibration.csv for rms and calibration_<metric>.csv for the others, from
// a demonstration bag of nodes/deer_vla_demos, the engine at full depth):
//
//	go run ./nodes/deer_vla_bench -calibrate /tmp/deer/calib -metric cosine
//
// Benchmark (quick: -episodes 2; -alone=false skips the exits-alone rows):
//
//	go run ./nodes/deer_vla_bench -episodes 200 -metric cosine
//
// -calibration names another calibration file to write or read.
//
// -failures FILE lists every failed episode (row, family, seed, steps,
// steps per exit, and what its task still lacked: sim.ShortfallOf), and
// the table is followed by their counts per family and kind, per row.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/nodes/internal/simloop"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/sim"
)

const synopsis = `
usage: deer_vla_bench [flags]

The closed-loop benchmark: the simulator with the Go engine in its loop
over fixed seeded episodes, for full depth, each exit alone and DeeR at
the -budgets (thresholds solved from the model's calibration for -metric,
held over -window steps as the node does). Prints success per task family
and overall, and average and peak decoder GFLOPs per action, and the
compute ratio at which DeeR matches full depth within -match points. With
-calibrate BAG it writes the model's calibration for -metric instead.`

const epilogue = `
Exit status: 0 done, 1 failed, 2 bad flags.

Examples:
  deer_vla_bench -episodes 200 -budgets 0.18,0.2,0.22 -failures /tmp/failures.txt
  deer_vla_bench -model models/deer_tiny -calibrate /tmp/deer/calib -metric cosine`

func main() {
	fs := flag.NewFlagSet("deer_vla_bench", flag.ContinueOnError)
	var modelDir, libPath string
	cli.RegisterModel(fs, &modelDir, "models/deer_tiny", "model folder `DIR`")
	cli.RegisterLibrary(fs, &libPath, "")
	calibrate := fs.String("calibrate", "", "write the model's calibration for -metric from this demonstration bag and exit")
	episodes := fs.Int("episodes", 25, "evaluation episodes per task family")
	seed := fs.Uint64("seed", 900000, "seed of the first evaluation episode")
	tasks := fs.String("tasks", "reach,push,pick,place", "task families")
	budgets := fs.String("budgets", "0.2,0.25,0.3,0.4,0.5,0.7", "DeeR average budgets, as fractions of the full-depth GFLOPs")
	match := fs.Float64("match", 2, "success points within which DeeR matches full depth")
	threads := fs.Int("threads", 1, "ONNX Runtime intra-op threads (the node's runtime.intra_op_threads)")
	parallel := fs.Int("parallel", runtime.NumCPU(), "configurations evaluated at the same time")
	quick := fs.Bool("quick", false, "evaluate only full depth and exit 1 alone (a quick training check)")
	alone := fs.Bool("alone", true, "evaluate every exit used alone (false: full depth and the DeeR rows only)")
	calPath := fs.String("calibration", "", "calibration CSV to write (-calibrate) or read (DeeR rows); default <model>/"+policy.CalibrationFile+" for rms, <model>/calibration_<metric>.csv for the others")
	window := fs.Int("window", int(control.DefaultParams().Int(control.ParamBudgetWindow)), "DeeR rows: steps over which the realised average is held to the budget (0: the calibration's thresholds as solved; default: the node's budget.window)")
	failures := fs.String("failures", "", "write one line per failed episode to this file: configuration, family, seed, steps, steps per exit, and what the task still lacked")
	metricName := fs.String("metric", "cosine", "exit metric of the DeeR rows and of -calibrate (the node's exit.metric: one of "+policy.MetricNames+")")
	fs.Usage = cli.Usage(fs, synopsis, epilogue)
	if err := cli.Parse(fs, os.Args[1:]); err != nil {
		os.Exit(cli.Fail("deer_vla_bench", err))
	}
	usageError := func(format string, args ...any) {
		os.Exit(cli.Fail("deer_vla_bench", cli.UsageErrorf(format, args...)))
	}
	if fs.NArg() > 0 {
		usageError("unexpected arguments %q", fs.Args())
	}
	metric, err := policy.ParseMetric(*metricName)
	if err != nil {
		usageError("-metric: %v", err)
	}

	library := libPath
	if library == "" {
		library = simloop.DefaultLibrary()
	}
	calibration := *calPath
	if calibration == "" {
		calibration = filepath.Join(modelDir, policy.CalibrationFileFor(metric))
	}
	if *calibrate != "" {
		n, err := writeCalibration(modelDir, library, *threads, *calibrate, metric, calibration)
		if err != nil {
			log.Fatalf("deer_vla_bench: %v", err)
		}
		fmt.Printf("wrote %s: %d steps\n", calibration, n)
		return
	}
	kinds, err := parseTasks(*tasks)
	if err != nil {
		usageError("-tasks: %v", err)
	}
	fracs, err := parseFloats(*budgets)
	if err != nil {
		usageError("-budgets: %v", err)
	}
	b := &bench{model: modelDir, library: library, threads: *threads, episodes: *episodes, parallel: *parallel, seed: *seed, tasks: kinds, quick: *quick, alone: *alone, metric: metric, window: *window, calibration: calibration}
	var failFile *os.File
	if *failures != "" {
		if failFile, err = os.Create(*failures); err != nil {
			log.Fatalf("deer_vla_bench: -failures: %v", err)
		}
		b.failures = failFile
	}
	err = b.run(os.Stdout, fracs, *match)
	if failFile != nil {
		err = errors.Join(err, failFile.Close())
	}
	if err != nil {
		log.Fatalf("deer_vla_bench: %v", err)
	}
}

func parseTasks(s string) ([]sim.TaskKind, error) {
	var out []sim.TaskKind
	for _, name := range strings.Split(s, ",") {
		found := false
		for _, k := range sim.AllTasks {
			if k.String() == strings.TrimSpace(name) {
				out = append(out, k)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown task family %q", name)
		}
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad value %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// writeCalibration replays a demonstration bag through the engine at full
// depth and records every exit's distance at every step.
func writeCalibration(dir, library string, threads int, bagPath string, metric policy.Metric, out string) (int, error) {
	e, err := simloop.OpenEngine(dir, library, threads, policy.Settings{Metric: metric}, nil)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	r, err := bag.Open(bagPath, bag.WithTopics("/instruction", "/static_image", "/gripper_image"))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cal := &policy.Calibration{Model: e.Manifest().Name, Metric: metric}
	var (
		msg              bag.Message
		static, gripper  msgs.Image
		instr            msgs.String
		haveS, haveG     bool
		haveInstr        bool
		staticT, gripT   int64
		distances        []float64
		lastStepStampSet bool
		lastStep         int64
	)
	for {
		err := r.Next(&msg)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		switch msg.Topic {
		case "/instruction":
			if err := instr.UnmarshalCDR(msg.Data); err != nil {
				return 0, err
			}
			e.Reset()
			haveInstr, haveS, haveG = true, false, false
			continue
		case "/static_image":
			if err := static.UnmarshalCDR(msg.Data); err != nil {
				return 0, err
			}
			haveS, staticT = true, static.Header.Stamp.Nanos()
		case "/gripper_image":
			if err := gripper.UnmarshalCDR(msg.Data); err != nil {
				return 0, err
			}
			haveG, gripT = true, gripper.Header.Stamp.Nanos()
		}
		if !haveInstr || !haveS || !haveG || staticT != gripT || (lastStepStampSet && lastStep == staticT) {
			continue
		}
		lastStep, lastStepStampSet = staticT, true
		res, err := e.Step(&policy.Observation{Static: toImage(&static), Gripper: toImage(&gripper), Instruction: instr.Data})
		if err != nil {
			return 0, err
		}
		distances = append(distances[:0], res.Distances[:res.NumDistances]...)
		if err := cal.Append(distances); err != nil {
			return 0, err
		}
	}
	if cal.Steps() == 0 {
		return 0, errors.New("no steps in " + bagPath)
	}
	return cal.Steps(), policy.WriteCalibration(out, cal)
}

func toImage(m *msgs.Image) *policy.Image {
	return &policy.Image{Width: int(m.Width), Height: int(m.Height), Step: int(m.Step), Encoding: m.Encoding, Data: m.Data}
}

// minFullSuccess is the full-depth success (percent) below which the
// compute ratio is reported as not meaningful.
const minFullSuccess = 20.0

type bench struct {
	model, library string
	threads        int
	episodes       int
	parallel       int
	seed           uint64
	tasks          []sim.TaskKind
	quick          bool
	alone          bool          // every exit alone too
	metric         policy.Metric // of the DeeR rows; it must match the calibration's
	window         int           // of the DeeR rows: policy.Settings.BudgetWindow
	calibration    string        // the DeeR rows' calibration file
	failures       io.Writer     // when not nil, one line per failed episode
}

// result is one configuration's closed-loop outcome.
type result struct {
	name       string
	success    []int // per task family
	n          []int
	steps      int
	gflops     float64 // sum over steps
	peak       float64
	exitCounts [policy.MaxExits]int
	nExits     int
	failures   []string       // one line per failed episode, when bench.failures is set
	failKinds  map[string]int // failed episodes by "family: shortfall kind"
}

func (r *result) rate(i int) float64 { return 100 * float64(r.success[i]) / float64(r.n[i]) }

func (r *result) overall() float64 {
	var s, n int
	for i := range r.success {
		s += r.success[i]
		n += r.n[i]
	}
	return 100 * float64(s) / float64(n)
}

func (r *result) avg() float64 { return r.gflops / float64(r.steps) }

// evaluate runs every evaluation episode with one engine configuration.
// cals are the engine's calibrations (read-only, so shared between
// concurrent configurations).
func (b *bench) evaluate(name string, s policy.Settings, cals []*policy.Calibration) (*result, error) {
	e, err := simloop.OpenEngine(b.model, b.library, b.threads, s, cals)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	env, err := sim.New(sim.Config{})
	if err != nil {
		return nil, err
	}
	res := &result{name: name, success: make([]int, len(b.tasks)), n: make([]int, len(b.tasks)), nExits: len(e.Manifest().Exits),
		failKinds: map[string]int{}}
	// Families take turns, as a robot's tasks would, so that a budget
	// window spans a mix of them rather than one family at a time.
	for ep := 0; ep < b.episodes; ep++ {
		for ti, kind := range b.tasks {
			seed := b.seed + uint64(ti*100000+ep)
			obs := env.Reset(seed, kind)
			e.Reset()
			var exits [policy.MaxExits]int // this episode's
			for {
				r, err := e.Step(simloop.Observation(&obs))
				if err != nil {
					return nil, fmt.Errorf("%s: %s seed %d: %w", name, kind, seed, err)
				}
				res.steps++
				res.gflops += r.GFLOPs
				res.peak = math.Max(res.peak, r.GFLOPs)
				res.exitCounts[r.Exit-1]++
				exits[r.Exit-1]++
				var info sim.StepInfo
				obs, info = env.Step(simloop.Action(r.Action))
				if info.Done {
					res.n[ti]++
					if info.Success {
						res.success[ti]++
					} else if b.failures != nil {
						st := env.State()
						f := sim.ShortfallOf(&st)
						res.failures = append(res.failures, fmt.Sprintf("%s\t%s\tseed %d\t%d steps\texits %s\t%s\t%s",
							name, kind, seed, info.Step, histogram(exits[:res.nExits]), f.Kind, f.Detail))
						res.failKinds[kind.String()+": "+f.Kind]++
					}
					break
				}
			}
		}
	}
	return res, nil
}

func (b *bench) run(w io.Writer, fracs []float64, match float64) error {
	m, err := policy.LoadManifest(b.model)
	if err != nil {
		return err
	}
	full := m.Exits[len(m.Exits)-1].GFLOPs
	// The DeeR rows' calibration, read once for all of them; a missing one
	// skips them, a corrupt one is an error.
	cal, calErr := policy.ReadCalibration(b.calibration)
	if calErr != nil && !errors.Is(calErr, fs.ErrNotExist) && !b.quick {
		return calErr
	}
	fmt.Fprintf(w, "model %s: %d exits, full depth %.4g decoder GFLOPs per action; %d episodes per family from seed %d\n\n",
		m.Name, len(m.Exits), full, b.episodes, b.seed)

	type config struct {
		name string
		s    policy.Settings
		cals []*policy.Calibration
		deer bool
	}
	configs := []config{{name: "full depth"}}
	for k := 1; k < len(m.Exits) && (b.alone || b.quick); k++ {
		configs = append(configs, config{name: fmt.Sprintf("exit %d only", k),
			s: policy.Settings{Budget: policy.Budget{PeakGFLOPs: m.Exits[k-1].GFLOPs}}})
		if b.quick {
			break
		}
	}
	if b.quick {
		fmt.Fprintf(w, "-quick: full depth and exit 1 only\n")
	} else if calErr != nil {
		fmt.Fprintf(w, "no %s: DeeR rows skipped (run with -calibrate BAG)\n", b.calibration)
	} else {
		for _, f := range fracs {
			configs = append(configs, config{name: "DeeR avg " + strconv.FormatFloat(f, 'f', -1, 64), // the budget as given: 0.335, not 0.34
				s: policy.Settings{Budget: policy.Budget{AvgGFLOPs: f * full}, Metric: b.metric, BudgetWindow: b.window}, cals: []*policy.Calibration{cal}, deer: true})
		}
	}
	// Configurations run concurrently, b.parallel at a time, each with its
	// own engine and sim; the results do not depend on the order.
	results := make([]*result, len(configs))
	errs := make([]error, len(configs))
	sem := make(chan struct{}, max(b.parallel, 1))
	var wg sync.WaitGroup
	for i, c := range configs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = b.evaluate(c.name, c.s, c.cals)
			if errs[i] == nil {
				fmt.Fprintf(os.Stderr, "%-14s success %5.1f%%  avg %.4g GFLOPs\n", c.name, results[i].overall(), results[i].avg())
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var deer, alone []*result // DeeR rows; exits used alone, full depth excluded
	for i, c := range configs {
		switch {
		case c.deer:
			deer = append(deer, results[i])
		case i > 0:
			alone = append(alone, results[i])
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "config\t"
	for _, k := range b.tasks {
		head += k.String() + " %\t"
	}
	head += "overall %\tavg GFLOPs\tpeak GFLOPs\tavg/full\texits used (% of steps)\t"
	fmt.Fprintln(tw, head)
	for _, r := range results {
		line := r.name + "\t"
		for i := range b.tasks {
			line += fmt.Sprintf("%.1f\t", r.rate(i))
		}
		var hist []string
		for i := 0; i < r.nExits; i++ {
			hist = append(hist, fmt.Sprintf("%.0f", 100*float64(r.exitCounts[i])/float64(r.steps)))
		}
		line += fmt.Sprintf("%.1f\t%.5f\t%.5f\t%.3f\t%s\t", r.overall(), r.avg(), r.peak, r.avg()/full, strings.Join(hist, "/"))
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if b.failures != nil {
		if err := writeFailures(w, b.failures, results); err != nil {
			return err
		}
	}

	fr := results[0]
	fmt.Fprintln(w)
	if b.alone || b.quick { // results[1] is exit 1 alone
		e1 := results[1]
		fmt.Fprintf(w, "shallowest exit alone vs full depth: %.1f vs %.1f%% success (%+.1f points)\n",
			e1.overall(), fr.overall(), e1.overall()-fr.overall())
		if e1.overall() > fr.overall()-10 {
			fmt.Fprintf(w, "warning: the shallowest exit alone loses less than 10 points: depth barely matters on these tasks\n")
		}
	}
	if fr.overall() < minFullSuccess {
		fmt.Fprintf(w, "full-depth success %.1f%% is below %g%%: the compute-vs-success comparison is not meaningful for this model\n",
			fr.overall(), minFullSuccess)
	}
	// The baseline DeeR has to beat: the cheapest exit that matches full
	// depth on its own, i.e. a plain peak budget with no exit rule.
	if fixed := cheapestMatch(alone, fr, match); fixed != nil {
		fmt.Fprintf(w, "a fixed exit matches full depth within %g points at %.5f avg GFLOPs (%s, %.1f%%): %.2fx less\n",
			match, fixed.avg(), fixed.name, fixed.overall(), fr.avg()/fixed.avg())
	}
	best := cheapestMatch(deer, fr, match)
	if best == nil {
		fmt.Fprintf(w, "DeeR never matched full-depth success within %g points\n", match)
		return nil
	}
	fmt.Fprintf(w, "DeeR matches full depth within %g points at %.5f avg GFLOPs (%s, %.1f%%): %.2fx less average compute than full depth (%.5f)\n",
		match, best.avg(), best.name, best.overall(), fr.avg()/best.avg(), fr.avg())
	return nil
}

// writeFailures writes every row's failure lines to lines and, to w, a
// table of failed episodes by family and shortfall kind, one column per row.
func writeFailures(w, lines io.Writer, results []*result) error {
	kinds := map[string]bool{}
	for _, r := range results {
		for _, f := range r.failures {
			if _, err := fmt.Fprintln(lines, f); err != nil {
				return err
			}
		}
		for k := range r.failKinds {
			kinds[k] = true
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "failed episodes by what they lacked\t"
	for _, r := range results {
		head += r.name + "\t"
	}
	fmt.Fprintln(tw, head)
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		line := k + "\t"
		for _, r := range results {
			line += strconv.Itoa(r.failKinds[k]) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// histogram joins step counts per exit as a/b/c.
func histogram(counts []int) string {
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, "/")
}

// cheapestMatch returns the result of rs with the lowest average GFLOPs
// whose success is within match points of full's, or nil.
func cheapestMatch(rs []*result, full *result, match float64) *result {
	var best *result
	for _, r := range rs {
		if r.overall() >= full.overall()-match && (best == nil || r.avg() < best.avg()) {
			best = r
		}
	}
	return best
}
