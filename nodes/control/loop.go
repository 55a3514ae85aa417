package control

import (
	"fmt"
	"sync"
	"time"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
)

// Skip says why a tick produced no action.
type Skip int

// Reasons a tick did not step. The zero value means it stepped.
const (
	Stepped       Skip = iota
	NoImage            // no static image received yet
	NotNew             // no new static image since the last step
	NoInstruction      // no instruction received yet
	Incomplete         // the model needs a gripper image at least as new as the static one
	NoClock            // use_sim_time and no /clock message yet
	Stale              // the static image is older than input.max_age_ms
)

func (s Skip) String() string {
	return [...]string{"stepped", "no static image yet", "no new static image", "no instruction yet", "waiting for the matching gripper image", "waiting for /clock", "stale image"}[s]
}

// Loop is the control loop of the node, free of ROS: the ROS glue (or the
// replay) hands it messages as they arrive and calls Tick when a step is
// due. On* methods only copy into the inbox under a short lock, so
// subscription callbacks never wait for inference; the latest message wins
// and nothing queues. Tick runs on one goroutine at a time.
type Loop struct {
	eng         *policy.Engine
	needGripper bool // the model has a gripper camera

	mu    sync.Mutex // guards inbox and nextSeq
	inbox struct {
		static, gripper *frame
		instruction     string
		episode         uint64 // counts instruction messages and resets
	}
	nextSeq uint64

	// Owned by the goroutine that calls Tick.
	static, gripper *frame
	lastSeq         uint64
	lastEpisode     uint64
	out             Output
	window          *Window
	clamp           float32
	maxAge          time.Duration
}

// Output is one step's messages. Tick reuses it: it is valid until the
// next Tick.
type Output struct {
	Action msgs.Action
	Stats  msgs.StepStats
	Result policy.StepResult
}

// NewLoop wraps an engine; window is the diagnostics window in steps.
func NewLoop(eng *policy.Engine, window int) *Loop {
	l := &Loop{eng: eng, window: NewWindow(window), static: &frame{}, gripper: &frame{}}
	for _, c := range eng.Manifest().Cameras {
		l.needGripper = l.needGripper || c.Slot == policy.SlotGripper
	}
	l.inbox.static, l.inbox.gripper = &frame{}, &frame{}
	return l
}

// SetLimits sets the live input and output limits: the largest age of the
// static image (0: none) and the pose clamp (0: none).
func (l *Loop) SetLimits(maxAge time.Duration, clamp float64) {
	l.mu.Lock()
	l.maxAge, l.clamp = maxAge, float32(clamp)
	l.mu.Unlock()
}

// OnStaticImage takes a static camera image.
func (l *Loop) OnStaticImage(m *msgs.Image) {
	l.take(func() { l.nextSeq++; l.inbox.static.setRaw(m, l.nextSeq) })
}

// OnStaticCompressed takes a compressed static camera image.
func (l *Loop) OnStaticCompressed(m *msgs.CompressedImage) {
	l.take(func() { l.nextSeq++; l.inbox.static.setCompressed(m, l.nextSeq) })
}

// OnGripperImage takes a gripper camera image.
func (l *Loop) OnGripperImage(m *msgs.Image) {
	l.take(func() { l.nextSeq++; l.inbox.gripper.setRaw(m, l.nextSeq) })
}

// OnGripperCompressed takes a compressed gripper camera image.
func (l *Loop) OnGripperCompressed(m *msgs.CompressedImage) {
	l.take(func() { l.nextSeq++; l.inbox.gripper.setCompressed(m, l.nextSeq) })
}

// OnInstruction takes the language instruction. Every instruction message
// starts a new episode at the next step, even with the same text: that is
// how a task is restarted.
func (l *Loop) OnInstruction(text string) {
	l.take(func() { l.inbox.instruction = text; l.inbox.episode++ })
}

func (l *Loop) take(f func()) {
	l.mu.Lock()
	f()
	l.mu.Unlock()
}

// Reset forgets the episode (the ~/reset service) at the next step. Like
// the On* methods it does not wait for a step in progress.
func (l *Loop) Reset() { l.take(func() { l.inbox.episode++ }) }

// Window returns the diagnostics window; use it from the Tick goroutine.
func (l *Loop) Window() *Window { return l.window }

// Tick runs one step if one is due, at ROS time now (nanoseconds; under
// use_sim_time the latest /clock, 0 before the first). It returns the
// step's output, or why it skipped, or the step's error (bad input, model
// failure), after which the loop goes on with the next image.
func (l *Loop) Tick(now int64) (*Output, Skip, error) {
	l.mu.Lock()
	in := &l.inbox
	seq := in.static.seq
	instruction, episode := in.instruction, in.episode
	maxAge, clamp := l.maxAge, l.clamp
	fresh := seq != 0 && seq != l.lastSeq
	// Cameras are not synchronised: wait until the gripper image of this
	// frame (or a newer one) is in, so both views are of the same moment.
	incomplete := fresh && l.needGripper && (in.gripper.seq == 0 || in.gripper.stamp.Nanos() < in.static.stamp.Nanos())
	ready := fresh && !incomplete && instruction != "" && !(now == 0 && maxAge > 0)
	if ready {
		// Swap buffers: the inbox gets the old frames' storage back, and
		// keeps the sequence numbers so later ticks see "not new".
		l.static, in.static = in.static, l.static
		in.static.seq = seq
		if in.gripper.seq > l.gripper.seq {
			l.gripper, in.gripper = in.gripper, l.gripper
			in.gripper.seq, in.gripper.stamp = l.gripper.seq, l.gripper.stamp
		}
	}
	l.mu.Unlock()

	switch {
	case seq == 0:
		return nil, NoImage, nil
	case !fresh:
		return nil, NotNew, nil
	case incomplete:
		return nil, Incomplete, nil
	case instruction == "":
		return nil, NoInstruction, nil
	case now == 0 && maxAge > 0:
		return nil, NoClock, nil
	}
	l.lastSeq = seq
	if age := time.Duration(now - l.static.stamp.Nanos()); maxAge > 0 && (age > maxAge || age < -maxAge) {
		return nil, Stale, nil
	}
	if episode != l.lastEpisode {
		l.eng.Reset()
		l.lastEpisode = episode
	}
	obs := policy.Observation{Instruction: instruction}
	var err error
	if obs.Static, err = l.static.image(); err != nil {
		return nil, Stepped, fmt.Errorf("static camera: %w", err)
	}
	if l.gripper.seq != 0 {
		if obs.Gripper, err = l.gripper.image(); err != nil {
			return nil, Stepped, fmt.Errorf("gripper camera: %w", err)
		}
	}
	r, err := l.eng.Step(&obs)
	if err != nil {
		return nil, Stepped, err
	}
	l.fill(&r, clamp)
	return &l.out, Stepped, nil
}

// fill turns a step result into the Action and StepStats messages.
func (l *Loop) fill(r *policy.StepResult, clamp float32) {
	ms := func(d time.Duration) float32 { return float32(d.Seconds() * 1e3) }
	o := &l.out
	o.Result = *r
	header := msgs.Header{Stamp: l.static.stamp, FrameID: l.static.frameID}
	a := &o.Action
	a.Header = header
	for i, v := range r.Action.Pose {
		if clamp > 0 {
			v = max(-clamp, min(clamp, v))
		}
		a.PoseDelta[i] = v
	}
	a.Gripper, a.GripperProbability = r.Action.Gripper, r.Action.GripperProb
	a.ExitIndex, a.GFLOPs, a.LatencyMs = uint8(r.Exit), float32(r.GFLOPs), ms(r.Total)

	l.window.Add(float64(a.LatencyMs), r.GFLOPs, r.Exit, r.SolvedGFLOPs)
	s := &o.Stats
	s.Header = header
	s.ExitIndex, s.MaxExit, s.Held, s.GFLOPs = uint8(r.Exit), uint8(r.MaxExit), r.Held, float32(r.GFLOPs)
	s.AvgGFLOPsBudget = float32(l.eng.Plan().AvgGFLOPs)
	s.WindowAvgGFLOPs = float32(l.window.AvgGFLOPs())
	s.Distances = s.Distances[:0]
	for _, d := range r.Distances[:r.NumDistances] {
		s.Distances = append(s.Distances, float32(d))
	}
	s.Thresholds = s.Thresholds[:0]
	for _, t := range r.Thresholds[:r.MaxExit] {
		s.Thresholds = append(s.Thresholds, float32(t))
	}
	s.StageMs = append(s.StageMs[:0], ms(r.EncoderTime))
	for i := 0; i < r.Exit; i++ {
		s.StageMs = append(s.StageMs, ms(r.BlockTime[i]))
	}
	s.StageMs = append(s.StageMs, ms(r.HeadTime))
}
