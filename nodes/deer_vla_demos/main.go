// Command deer_vla_demos records scripted-expert demonstrations of the sim
// package as a rosbag2 MCAP bag, the training and calibration data of the
// tiny DeeR model (models/deer_tiny, trained by tools/train).
//
// Episode i (0-based) uses seed -seed+i and task family number i modulo the
// -tasks list. Every control step writes, with the same header stamp and log
// time (the control rate is -rate Hz):
//
//	/static_image   sensor_msgs/msg/Image rgb8 64x64, frame static_camera
//	/gripper_image  sensor_msgs/msg/Image rgb8 32x32, frame gripper_camera
//	/expert_action  deer_vla_msgs/msg/Action, the expert's action for the
//	                images of that step (ExitIndex 0, frame static_camera)
//
// and every episode starts with one /instruction (std_msgs/msg/String) at
// the stamp of its first images, written before them: every instruction
// message starts a new episode. Episodes are one control period apart.
// Chunks are uncompressed (tools/train reads them with plain Python).
//
// -remap from:=to records a topic under another name (the robot's), as
// deer_vla_replay reads it with the same -remap.
//
// With -state, every step also writes the true sim state before the action,
// for auxiliary training targets (never an input of the policy):
//
//	/sim_state      std_msgs/msg/String, JSON (see simState), log time =
//	                the step's stamp
//
// With -model, a trained model (the Go engine at full depth, or up to
// exit -exit) drives the sim instead of the expert, and every step records
// the expert's action for the state the model reached: on-policy labels for
// DAgger-style training, which teach the policy to recover from its own
// mistakes. With -beta, each step executes the expert's action instead,
// with that probability (seeded by the episode seed). With -budget, the
// model runs as the node runs it: DeeR at that average budget (a fraction
// of full depth's decoder GFLOPs), with the node's default exit metric and
// budget window and the model folder's calibration, so the episodes visit
// the states the deployed controller visits.
//
// The output is deterministic: the same flags give a byte-identical bag.
//
//	go run ./nodes/deer_vla_demos -out test/bags/sample_demo -episodes 6 -seed 1 -noise 0.05
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/nodes/internal/simloop"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/replay"
	"github.com/deervla/deer_vla/sim"
)

// Topic names and frame ids of the recorded bag.
const (
	TopicStatic      = "/static_image"
	TopicGripper     = "/gripper_image"
	TopicInstruction = "/instruction"
	TopicAction      = "/expert_action"
	TopicState       = "/sim_state"
	FrameStatic      = "static_camera"
	FrameGripper     = "gripper_camera"
)

// startNanos is the stamp of the first step: 2024-11-04T00:00:00Z (a fixed
// time, never the clock, so that bags are reproducible).
const startNanos = int64(1730678400) * 1e9

const synopsis = `
usage: deer_vla_demos [flags]

Records demonstrations in the simulator as a rosbag2 MCAP bag (-out): per
control step /static_image and /gripper_image (sensor_msgs/Image),
/expert_action (deer_vla_msgs/Action), an /instruction (std_msgs/String)
at every episode start, and with -state the true sim state on /sim_state.
The scripted expert acts, or with -model a trained model drives and the
expert labels the states it reaches (DAgger data). -remap records a topic
under another name (deer_vla_replay reads it back with the same -remap).
The same flags give a byte-identical bag.`

const epilogue = `
Exit status: 0 recorded, 1 failed, 2 bad flags.

Examples:
  deer_vla_demos -out test/bags/sample_demo -episodes 6 -seed 1 -noise 0.05
  deer_vla_demos -out /tmp/dagger -model models/deer_tiny -beta 0.2 -exit 1 -state`

func main() {
	fs := flag.NewFlagSet("deer_vla_demos", flag.ContinueOnError)
	out := fs.String(cli.FlagOut, "demos", "bag folder `DIR` to create (must not exist or be empty)")
	episodes := fs.Int("episodes", 6, "number of episodes")
	seed := fs.Uint64("seed", 1, "seed of the first episode; episode i uses seed+i")
	tasks := fs.String("tasks", "reach,push,pick,place", "comma-separated task families, cycled over the episodes")
	noise := fs.Float64("noise", 0.05, "expert pose noise (sim.Config.ExpertNoise)")
	rate := fs.Float64("rate", 10, "control rate in Hz: the stamp step")
	onlySuccess := fs.Bool("only-success", false, "skip episodes the expert fails (their seeds are not replaced)")
	withState := fs.Bool("state", false, "also record the true sim state of every step on "+TopicState)
	var modelDir, lib string
	cli.RegisterModel(fs, &modelDir, "", "model folder `DIR`: the model drives the sim, the expert labels every step (default: the expert drives)")
	beta := fs.Float64("beta", 0, "with -model: probability of executing the expert's action at a step")
	exit := fs.Int("exit", 0, "with -model: run the model up to this exit only (0: full depth)")
	budget := fs.Float64("budget", 0, "with -model: run DeeR at this average budget, a fraction of full depth's GFLOPs in (0, 1], with the model folder's calibration for the node's default metric (0: no DeeR; not with -exit)")
	cli.RegisterLibrary(fs, &lib, "with -model; ")
	var remaps []string
	cli.RegisterRemaps(fs, &remaps)
	fs.Usage = cli.Usage(fs, synopsis, epilogue)
	if err := cli.Parse(fs, os.Args[1:]); err != nil {
		os.Exit(cli.Fail("deer_vla_demos", err))
	}
	usageError := func(format string, args ...any) {
		os.Exit(cli.Fail("deer_vla_demos", cli.UsageErrorf(format, args...)))
	}
	if fs.NArg() > 0 {
		usageError("unexpected arguments %q (the output is -out)", fs.Args())
	}
	kinds, err := parseTasks(*tasks)
	if err != nil {
		usageError("-tasks: %v", err)
	}
	if *episodes < 1 || *rate <= 0 || *beta < 0 || *beta > 1 {
		usageError("-episodes must be >= 1, -rate > 0 and -beta in [0, 1]")
	}
	if *budget != 0 && *exit != 0 {
		usageError("-budget and -exit exclude each other")
	}
	topics, err := replay.Topics{}.Remap(remaps)
	if err != nil {
		usageError("%v", err)
	}
	o := options{
		Episodes: *episodes, Seed: *seed, Tasks: kinds, Noise: *noise,
		PeriodNanos: int64(1e9 / *rate), OnlySuccess: *onlySuccess, State: *withState, Beta: *beta, Topics: topics,
	}
	if modelDir != "" {
		library := lib
		if library == "" {
			library = simloop.DefaultLibrary()
		}
		var cals []*policy.Calibration // DeeR's thresholds are solved from them
		if *budget != 0 {
			var err error
			if cals, err = policy.ReadModelCalibrations(modelDir); err != nil {
				log.Fatalf("deer_vla_demos: -budget: %v", err)
			}
		}
		e, err := simloop.OpenEngine(modelDir, library, 1, policy.Settings{}, cals)
		if err != nil {
			log.Fatalf("deer_vla_demos: -model: %v", err)
		}
		defer e.Close()
		if err := truncate(e, *exit); err != nil {
			log.Fatalf("deer_vla_demos: -exit: %v", err)
		}
		if err := runDeeR(e, *budget); err != nil {
			log.Fatalf("deer_vla_demos: -budget: %v", err)
		}
		o.Policy = e
	}
	st, err := record(*out, o)
	if err != nil {
		log.Fatalf("deer_vla_demos: %v", err)
	}
	fmt.Fprintf(os.Stderr, "deer_vla_demos: %s: %d episodes (%d successful, %d skipped), %d steps\n",
		*out, st.Episodes, st.Successes, st.Skipped, st.Steps)
}

// truncate caps e at exit n with a peak budget of exactly that exit's
// cost, as the benchmark's "exit n only" rows do; n 0 keeps full depth.
// States the shallow policy reaches on its own are the ones its early exits
// must recover from under DeeR.
func truncate(e *policy.Engine, n int) error {
	if n == 0 {
		return nil
	}
	exits := e.Manifest().Exits
	if n < 0 || n > len(exits) {
		return fmt.Errorf("is %d, want 0 (full depth) or an exit in 1..%d", n, len(exits))
	}
	_, err := e.SetSettings(policy.Settings{Budget: policy.Budget{PeakGFLOPs: exits[n-1].GFLOPs}})
	return err
}

// runDeeR sets e to DeeR at an average budget of frac times full depth's
// decoder GFLOPs, with every other setting at the node's defaults (exit
// metric, budget window, ...), converted by the node's own
// Params.Settings; frac 0 leaves e as it is. The metric's calibration must
// have been given to the engine.
func runDeeR(e *policy.Engine, frac float64) error {
	if frac == 0 {
		return nil
	}
	if !(frac > 0 && frac <= 1) {
		return fmt.Errorf("is %g, want a fraction of full depth's GFLOPs in (0, 1]", frac)
	}
	exits := e.Manifest().Exits
	p, err := control.DefaultParams().With(map[string]control.Value{
		control.ParamAvgGFLOPs: control.Double(frac * exits[len(exits)-1].GFLOPs),
	}, false)
	if err != nil {
		return err
	}
	_, err = e.SetSettings(p.Settings())
	return err
}

type options struct {
	Episodes    int
	Seed        uint64
	Tasks       []sim.TaskKind
	Noise       float64
	PeriodNanos int64
	OnlySuccess bool
	State       bool
	// Policy, when set, drives the sim; the expert only labels. Beta is
	// the probability of executing the expert's action at a step instead.
	Policy *policy.Engine
	Beta   float64
	// Topics names the recorded topics (Static, Gripper, Instruction,
	// Expert); zero: the node's, as replay.DefaultTopics.
	Topics replay.Topics
}

type stats struct {
	Episodes, Successes, Skipped, Steps int
}

func parseTasks(s string) ([]sim.TaskKind, error) {
	var out []sim.TaskKind
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "all" {
			out = append(out, sim.AllTasks[:]...)
			continue
		}
		found := false
		for _, k := range sim.AllTasks {
			if k.String() == name {
				out = append(out, k)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown task family %q in -tasks (want reach, push, pick, place or all)", name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-tasks is empty")
	}
	return out, nil
}

// step is one recorded control step.
type step struct {
	static, gripper []byte
	action          sim.Action
	state           string // JSON of simState, with options.State
}

// simState is the JSON of one /sim_state message: the effector (x, y, z,
// yaw, closed 0/1), the blocks (colour number 1..4 as in sim.Colour, x, y,
// z, yaw), the target and held block indexes (held -1 when none), the task
// family number and the place task's bin side (0 when none).
type simState struct {
	Effector [5]float64   `json:"effector"`
	Blocks   [][5]float64 `json:"blocks"`
	Target   int          `json:"target"`
	Held     int          `json:"held"`
	Task     int          `json:"task"`
	Bin      int          `json:"bin"`
}

func stateJSON(s *sim.State) string {
	e := s.Effector
	closed := 0.0
	if e.Closed {
		closed = 1
	}
	js := simState{Effector: [5]float64{e.Pos[0], e.Pos[1], e.Pos[2], e.Yaw, closed},
		Target: s.Target, Held: s.Held, Task: int(s.Task), Bin: int(s.Bin)}
	for i := range s.NumBlocks {
		b := s.Blocks[i]
		js.Blocks = append(js.Blocks, [5]float64{float64(b.Colour), b.Pos[0], b.Pos[1], b.Pos[2], b.Yaw})
	}
	out, err := json.Marshal(js)
	if err != nil {
		panic(err) // plain numbers only
	}
	return string(out)
}

func record(dir string, o options) (stats, error) {
	var st stats
	env, err := sim.New(sim.Config{ExpertNoise: o.Noise})
	if err != nil {
		return st, err
	}
	w, err := bag.Create(dir, bag.WriterOptions{Compression: bag.CompressionNone})
	if err != nil {
		return st, err
	}
	if o.Topics == (replay.Topics{}) {
		o.Topics = replay.DefaultTopics
	}
	for _, t := range []struct{ name, typ string }{
		{o.Topics.Instruction, msgs.StringType},
		{o.Topics.Static, msgs.ImageType},
		{o.Topics.Gripper, msgs.ImageType},
		{o.Topics.Expert, msgs.ActionType},
		{TopicState, msgs.StringType},
	} {
		if t.name == TopicState && !o.State {
			continue
		}
		qos := bag.QoS{Depth: 10}
		if t.name == o.Topics.Instruction {
			qos = bag.QoS{Durability: bag.DurabilityTransientLocal, Depth: 1}
		}
		if err := w.AddTopic(t.name, t.typ, qos); err != nil {
			w.Close()
			return st, err
		}
	}
	now := startNanos
	var steps []step
	for ep := 0; ep < o.Episodes; ep++ {
		seed := o.Seed + uint64(ep)
		kind := o.Tasks[ep%len(o.Tasks)]
		obs := env.Reset(seed, kind)
		instr := obs.Instruction
		steps = steps[:0]
		if o.Policy != nil {
			o.Policy.Reset()
		}
		mix := rand.New(rand.NewPCG(seed, 0x6461676772))
		var info sim.StepInfo
		for !info.Done {
			a := env.Expert()
			do := a
			if o.Policy != nil && mix.Float64() >= o.Beta {
				r, err := o.Policy.Step(simloop.Observation(&obs))
				if err != nil {
					w.Close()
					return st, fmt.Errorf("episode seed %d: %w", seed, err)
				}
				do = simloop.Action(r.Action)
			}
			sp := step{
				static:  append([]byte(nil), obs.Static...),
				gripper: append([]byte(nil), obs.Gripper...),
				action:  a,
			}
			if o.State {
				s := env.State()
				sp.state = stateJSON(&s)
			}
			steps = append(steps, sp)
			obs, info = env.Step(do)
		}
		st.Episodes++
		if info.Success {
			st.Successes++
		} else if o.OnlySuccess {
			st.Skipped++
			continue
		}
		if err := writeEpisode(w, o.Topics, now, o.PeriodNanos, instr, steps); err != nil {
			w.Close()
			return st, err
		}
		st.Steps += len(steps)
		now += int64(len(steps)+1) * o.PeriodNanos
	}
	return st, w.Close()
}

func writeEpisode(w *bag.Writer, names replay.Topics, t0, period int64, instr string, steps []step) error {
	if err := w.WriteMessage(names.Instruction, t0, &msgs.String{Data: instr}); err != nil {
		return err
	}
	for i, s := range steps {
		t := t0 + int64(i)*period
		stamp := msgs.TimeFromNanos(t)
		imgs := []struct {
			topic, frame string
			size         int
			data         []byte
		}{
			{names.Static, FrameStatic, sim.StaticSize, s.static},
			{names.Gripper, FrameGripper, sim.GripperSize, s.gripper},
		}
		for _, im := range imgs {
			m := &msgs.Image{
				Header: msgs.Header{Stamp: stamp, FrameID: im.frame},
				Height: uint32(im.size), Width: uint32(im.size), Encoding: "rgb8",
				Step: uint32(im.size * 3), Data: im.data,
			}
			if err := w.WriteMessage(im.topic, t, m); err != nil {
				return err
			}
		}
		if s.state != "" {
			if err := w.WriteMessage(TopicState, t, &msgs.String{Data: s.state}); err != nil {
				return err
			}
		}
		a := &msgs.Action{
			Header:    msgs.Header{Stamp: stamp, FrameID: FrameStatic},
			PoseDelta: s.action.Pose,
			Gripper:   s.action.Gripper,
		}
		if s.action.Gripper > 0 {
			a.GripperProbability = 1
		}
		if err := w.WriteMessage(names.Expert, t, a); err != nil {
			return err
		}
	}
	return nil
}
