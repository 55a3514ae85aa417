package replay

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/control"
)

// Run replays cfg.Bag through node (built with cfg.Params). onStep, if not
// nil, sees every published step; its argument is reused afterwards.
func Run(cfg Config, node *control.Node, onStep func(*control.Output)) (*Report, error) {
	if cfg.Topics == (Topics{}) {
		cfg.Topics = DefaultTopics
	}
	t := cfg.Topics
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
	p := &player{cfg: cfg, node: node, loop: node.Loop(), rep: rep, onStep: onStep, period: int64(cfg.Params.Period())}
	for _, ti := range in.Topics() {
		p.total += ti.MessageCount
	}
	if cfg.OutBag != "" {
		if p.out, err = openOutput(cfg.OutBag, in.Topics()); err != nil {
			return nil, err
		}
	}
	runErr := p.play(in)
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

	nextTick int64 // next fixed-rate tick, bag time
	last     int64 // log time of the last message
	img      msgs.Image
	cimg     msgs.CompressedImage
	str      msgs.String
	act      msgs.Action
}

func (p *player) play(in *bag.Reader) error {
	var msg bag.Message
	t := p.cfg.Topics
	for {
		err := in.Next(&msg)
		if errors.Is(err, io.EOF) {
			return p.ticksUntil(p.last + 1)
		}
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		p.rep.Messages++
		if p.cfg.Progress != nil && p.rep.Messages%500 == 0 {
			fmt.Fprintf(p.cfg.Progress, "\rreplay: %d/%d messages, %d actions", p.rep.Messages, p.total, p.rep.Steps)
		}
		if err := p.ticksUntil(msg.LogTimeNanos); err != nil {
			return err
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
		}
		if decodeErr != nil {
			p.rep.Malformed++
			p.rep.problem("malformed %s message at %d ns: %v", msg.Topic, msg.LogTimeNanos, decodeErr)
			continue
		}
		// On every image, not only static ones: a step may be waiting for
		// the gripper image of its frame.
		if p.period == 0 && (msg.Topic == t.Static || msg.Topic == t.StaticCompressed || msg.Topic == t.Gripper || msg.Topic == t.GripperCompressed) {
			if err := p.tick(msg.LogTimeNanos); err != nil {
				return err
			}
		}
	}
}

// ticksUntil runs the fixed-rate ticks due before time end: a tick at time
// T sees every message logged at or before T.
func (p *player) ticksUntil(end int64) error {
	if p.period == 0 {
		return nil
	}
	if p.nextTick == 0 {
		p.nextTick = end
	}
	for ; p.nextTick < end; p.nextTick += p.period {
		if err := p.tick(p.nextTick); err != nil {
			return err
		}
	}
	return nil
}

// tick runs the control loop at bag time now and records what it did.
func (p *player) tick(now int64) error {
	out, skip, err := p.loop.Tick(now)
	if err != nil {
		p.rep.StepErrors++
		p.rep.problem("step at %d ns failed: %v", now, err)
		return nil
	}
	if skip != control.Stepped {
		p.rep.Skips[skip]++
		return nil
	}
	p.rep.addStep(out)
	if p.onStep != nil {
		p.onStep(out)
	}
	if p.out != nil {
		if err := p.out.WriteMessage(ActionTopic, now, &out.Action); err != nil {
			return fmt.Errorf("replay: output bag: %w", err)
		}
		if err := p.out.WriteMessage(StatsTopic, now, &out.Stats); err != nil {
			return fmt.Errorf("replay: output bag: %w", err)
		}
	}
	return nil
}

// openOutput creates the output bag with the inputs' topics and ours.
func openOutput(dir string, inputs []bag.TopicInfo) (*bag.Writer, error) {
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("replay: output bag %s already exists", dir)
	}
	w, err := bag.Create(dir, bag.WriterOptions{})
	if err != nil {
		return nil, err
	}
	for _, ti := range inputs {
		if err := w.AddTopic(ti.Name, ti.Type, bag.QoS{}); err != nil {
			w.Close()
			return nil, err
		}
	}
	for _, tt := range [][2]string{{ActionTopic, msgs.ActionType}, {StatsTopic, msgs.StepStatsType}} {
		if err := w.AddTopic(tt[0], tt[1], bag.QoS{}); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}
