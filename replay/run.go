package replay

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/control"
)

// Bag replays cfg.Bag through a node of its own, opened with cfg.Params
// (model, ONNX Runtime library and calibrations found through env, e.g.
// control.ProcessEnvironment()), and closes it. It is what the
// deer_vla_replay command does for one bag; see Run for the results.
func Bag(cfg Config, env control.Environment) (*Report, error) {
	eng, err := control.OpenEngine(cfg.Params, env)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	node, err := control.NewNode(eng, cfg.Params)
	if err != nil {
		return nil, err
	}
	return Run(cfg, node, nil)
}

// Run replays cfg.Bag through node (built with cfg.Params) and returns the
// report. onStep, if not nil, sees every published step; its argument is
// reused afterwards. The error is for what stopped the replay (an
// unreadable bag, an output bag that could not be written); a replay that
// ran but published no action returns a report whose [Report.Check] says
// why.
func Run(cfg Config, node *control.Node, onStep func(*control.Output)) (*Report, error) {
	if cfg.Topics == (Topics{}) {
		cfg.Topics = DefaultTopics
	}
	t := &cfg.Topics
	if t.Action == "" {
		t.Action = ActionTopic
	}
	if t.Stats == "" {
		t.Stats = StatsTopic
	}
	var names []string
	for _, n := range []string{t.Static, t.StaticCompressed, t.Gripper, t.GripperCompressed, t.Instruction, t.Expert} {
		if n != "" {
			names = append(names, n)
		}
	}
	in, err := bag.Open(cfg.Bag, bag.WithTopics(names...))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	rep := newReport(cfg.Bag, node.Engine())
	all, err := bagTopics(cfg.Bag)
	if err != nil {
		return nil, err
	}
	rep.checkTopics(cfg.Topics, node.Engine().Manifest(), all)
	p := &player{cfg: cfg, node: node, loop: node.Loop(), rep: rep, onStep: onStep, period: int64(cfg.Params.Period())}
	for _, ti := range in.Topics() {
		p.total += ti.MessageCount
	}
	if cfg.OutBag != "" {
		if p.out, err = openOutput(cfg.OutBag, in.Topics(), cfg.Topics, rep); err != nil {
			return nil, err
		}
	}
	before := p.loop.Counts()
	runErr := p.play(in)
	p.countNotRun(before)
	if p.out != nil {
		if err := p.out.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("replay: output bag %s: %w", cfg.OutBag, err)
		}
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "\rreplay: %d messages, %d actions          \n", rep.Messages, rep.Steps)
	}
	return rep, runErr
}

// bagTopics lists every topic of the bag, read or not, so that a report
// can say what the bag has when a topic the replay reads is missing.
func bagTopics(path string) ([]bag.TopicInfo, error) {
	r, err := bag.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Topics(), nil
}

// player holds one replay's state.
type player struct {
	cfg    Config
	node   *control.Node
	loop   *control.Loop
	rep    *Report
	out    *bag.Writer
	onStep func(*control.Output)
	period int64 // control period in ns, 0: on every static image
	total  int64

	// Fixed-rate ticks (period > 0) fall on nextTick, nextTick+period, ...
	// from the first message's log time on.
	ticking  bool
	nextTick int64
	// dirty: the loop has had a message since the last tick. Without one,
	// a tick sees what the last tick saw and does nothing, so ticks are
	// jumped over instead of run (see ticksThrough).
	dirty bool

	last int64 // log time of the last message
	img  msgs.Image
	cimg msgs.CompressedImage
	str  msgs.String
	act  msgs.Action
}

// notDue is why a static image got no action when the bag ended before a
// tick saw it (at control.rate_hz; on every image, each image ticks).
const notDue = "no tick before the bag ended (control.rate_hz)"

func (p *player) play(in *bag.Reader) error {
	var msg bag.Message
	t := p.cfg.Topics
	for {
		err := in.Next(&msg)
		if errors.Is(err, io.EOF) {
			return p.ticksThrough(p.last)
		}
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		p.rep.Messages++
		if p.cfg.Progress != nil && p.rep.Messages%500 == 0 {
			fmt.Fprintf(p.cfg.Progress, "\rreplay: %d/%d messages, %d actions", p.rep.Messages, p.total, p.rep.Steps)
		}
		if !p.ticking {
			p.ticking, p.nextTick = true, msg.LogTimeNanos
		} else if msg.LogTimeNanos > math.MinInt64 {
			// A tick at time T sees every message logged at or before T.
			if err := p.ticksThrough(msg.LogTimeNanos - 1); err != nil {
				return err
			}
		}
		p.last = msg.LogTimeNanos
		if p.out != nil {
			if err := p.out.Write(msg.Topic, msg.LogTimeNanos, msg.Data); err != nil {
				return fmt.Errorf("replay: output bag: %w", err)
			}
		}
		var decodeErr error
		switch msg.Topic {
		case t.Static, t.Gripper:
			if decodeErr = p.img.UnmarshalCDR(msg.Data); decodeErr == nil {
				if msg.Topic == t.Static {
					p.loop.OnStaticImage(&p.img)
				} else {
					p.loop.OnGripperImage(&p.img)
				}
			}
		case t.StaticCompressed, t.GripperCompressed:
			if decodeErr = p.cimg.UnmarshalCDR(msg.Data); decodeErr == nil {
				if msg.Topic == t.StaticCompressed {
					p.loop.OnStaticCompressed(&p.cimg)
				} else {
					p.loop.OnGripperCompressed(&p.cimg)
				}
			}
		case t.Instruction:
			if decodeErr = p.str.UnmarshalCDR(msg.Data); decodeErr == nil {
				p.loop.OnInstruction(p.str.Data)
			}
		case t.Expert:
			if decodeErr = p.act.UnmarshalCDR(msg.Data); decodeErr == nil {
				p.rep.errs.addExpert(&p.act)
			}
			continue // the loop has not changed
		}
		if decodeErr != nil {
			p.rep.Malformed++
			p.rep.problem("malformed %s message at %d ns: %v", msg.Topic, msg.LogTimeNanos, decodeErr)
			continue
		}
		p.dirty = true
		// On every image, not only static ones: a step may be waiting for
		// the gripper image of its frame.
		if p.period == 0 && (msg.Topic == t.Static || msg.Topic == t.StaticCompressed || msg.Topic == t.Gripper || msg.Topic == t.GripperCompressed) {
			if err := p.tick(msg.LogTimeNanos); err != nil {
				return err
			}
			// Queued images (held back for their gripper image) step
			// now, one tick each, as the node ticks again at once.
			for p.loop.Backlog() {
				if err := p.tick(msg.LogTimeNanos); err != nil {
					return err
				}
			}
		}
	}
}

// countNotRun fills the report's images without an action, by reason,
// from the loop's own counts since before: every static image that
// entered the loop is counted there once, by how it ended, except those
// still queued when the bag ended, which end now.
func (p *player) countNotRun(before control.Counts) {
	if n := p.loop.Abandon(); n > 0 {
		p.rep.NotRun[notDue] += n
	}
	after := p.loop.Counts()
	for s := control.Skip(0); int(s) < control.NumSkips; s++ {
		n := int(after.ByReason[s] - before.ByReason[s])
		if s == control.Stepped || n == 0 {
			continue
		}
		why := s.String()
		if s == control.Failed {
			why = Failed
		}
		p.rep.NotRun[why] += n
	}
}

// ticksThrough runs the fixed-rate ticks due at or before time last.
//
// Ticks are jumped over, not run, while no message has come since the
// previous tick: a tick's outcome depends on the loop's inbox and on the
// time only through the age of a fresh frame, and the first tick that
// sees a frame consumes it (steps, or skips it as stale), so a later tick
// with nothing new finds nothing to do. Replay therefore costs time in
// proportion to the messages, not to the ticks across gaps in log time,
// and the same actions come out as when every tick is run.
func (p *player) ticksThrough(last int64) error {
	for p.period > 0 && p.ticking && p.nextTick <= last {
		if p.dirty || walkEveryTick {
			p.dirty = false
			if err := p.tick(p.nextTick); err != nil {
				return err
			}
			p.advance(1)
			continue
		}
		p.advance(int64((uint64(last)-uint64(p.nextTick))/uint64(p.period)) + 1)
	}
	return nil
}

// walkEveryTick runs every tick instead of jumping over the idle ones:
// tests set it to check that jumping changes no action.
var walkEveryTick = false

// advance moves the tick clock n periods on, and stops ticking where that
// would pass the largest time int64 nanoseconds hold.
func (p *player) advance(n int64) {
	if n > (math.MaxInt64-p.nextTick)/p.period {
		p.ticking = false
		return
	}
	p.nextTick += n * p.period
}

// tick runs the control loop at bag time now and records what it did.
func (p *player) tick(now int64) error {
	p.rep.Ticks++
	out, skip, err := p.loop.Tick(now)
	if err != nil {
		p.rep.StepErrors++
		p.rep.problem("step at %d ns failed: %v", now, err)
		return nil
	}
	if skip == control.OverDeadline {
		// The frame's step ran and was cut before its first exit: counted
		// by the loop, like a failed step. A fallback action
		// (control.deadline_fallback) goes to the output bag, flagged in
		// its step record, but is not the policy's action: the report's
		// figures leave it out.
		if out != nil && p.out != nil {
			return p.writeOutput(now, out)
		}
		return nil
	}
	if skip != control.Stepped {
		if skip == control.NoClock {
			// Waiting for time to start (a tick at time 0): the next tick
			// may step without a new message, so it must run.
			p.dirty = true
		}
		return nil
	}
	p.rep.addStep(out)
	if p.onStep != nil {
		p.onStep(out)
	}
	if p.out != nil {
		return p.writeOutput(now, out)
	}
	return nil
}

// writeOutput writes a published action and its step record to the output bag.
func (p *player) writeOutput(now int64, out *control.Output) error {
	if err := p.out.WriteMessage(p.cfg.Topics.Action, now, &out.Action); err != nil {
		return fmt.Errorf("replay: output bag: %w", err)
	}
	if err := p.out.WriteMessage(p.cfg.Topics.Stats, now, &out.Stats); err != nil {
		return fmt.Errorf("replay: output bag: %w", err)
	}
	return nil
}

// Failed is the reason counted for a step that ran and failed (bad input,
// a model error); the problems list says how.
const Failed = "failed"

// openOutput creates the output bag with the inputs' topics, each with
// the QoS it was recorded with, and the node's outputs.
func openOutput(path string, inputs []bag.TopicInfo, t Topics, rep *Report) (*bag.Writer, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("replay: output %s already exists", path)
	}
	var w *bag.Writer
	var err error
	if strings.HasSuffix(path, ".mcap") {
		w, err = bag.CreateFile(path, bag.WriterOptions{})
	} else {
		w, err = bag.Create(path, bag.WriterOptions{})
	}
	if err != nil {
		return nil, err
	}
	for _, ti := range inputs {
		if err := w.AddTopic(ti.Name, ti.Type, inputQoS(ti, t, rep)); err != nil {
			w.Close()
			return nil, err
		}
	}
	// The node publishes both with the default publisher QoS: reliable,
	// volatile, keep last 10.
	for _, tt := range [][2]string{{t.Action, msgs.ActionType}, {t.Stats, msgs.StepStatsType}} {
		if err := w.AddTopic(tt[0], tt[1], bag.QoS{Depth: 10}); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// inputQoS is the QoS to record an input topic with: the one it was
// recorded with. Where the input bag has none (an MCAP file written
// without it), the instruction gets the node's reliable + transient local,
// without which played-back instructions would never reach the node's
// latched subscription.
func inputQoS(ti bag.TopicInfo, t Topics, rep *Report) bag.QoS {
	q, ok, err := bag.ParseOfferedQoS(ti.OfferedQoSProfiles)
	if err != nil {
		rep.problem("topic %s: recorded QoS not understood, written as reliable and volatile: %v", ti.Name, err)
	}
	if !ok && ti.Name == t.Instruction {
		return bag.QoS{Reliability: bag.ReliabilityReliable, Durability: bag.DurabilityTransientLocal, Depth: 1}
	}
	return q
}
