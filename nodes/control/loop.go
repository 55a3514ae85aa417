package control

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
)

// Loop is the control loop of the node, free of ROS: the ROS glue (or the
// replay) hands it messages as they arrive and calls Tick when a step is
// due. On* methods only copy into the inbox under a short lock, so
// subscription callbacks never wait for inference. Images queue while the
// loop keeps up and the newest wins when it falls behind (queue.go has
// the rules). Tick runs on one goroutine at a time.
type Loop struct {
	eng         *policy.Engine
	needGripper bool // the model has a gripper camera

	mu    sync.Mutex // guards inbox, nextSeq and the live limits
	inbox struct {
		static, gripper frameQueue
		anyStatic       bool // a static image has arrived
		instruction     string
		episode         uint64 // counts instruction messages and resets
		everyImage      bool   // queue static images (control.rate_hz 0), not only the latest
		stepping        bool   // a step runs: a new static image replaces the queued ones
		ended           [NumSkips]uint64
	}
	nextSeq  uint64
	clamp    float32
	maxAge   time.Duration
	deadline time.Duration
	fallback Fallback

	// Owned by the goroutine that calls Tick.
	static, gripper *frame // the frames of the step running or last run
	lastEpisode     uint64
	took            bool // this tick took a static image from the queue
	backlog         bool // the last tick took a static image and another is queued
	out             Output
	window          *Window
	stage           string // what the step is doing, for a recovered panic
	prev            struct {
		valid   bool
		episode uint64
		action  msgs.Action // the last action published
	}

	// Read from other goroutines (diagnostics, the ROS glue).
	wall          func() time.Time // wall time, for "no action for N s"
	started       time.Time
	lastInput     atomic.Int64 // wall time (UnixNano) of the latest message
	lastAction    atomic.Int64 // wall time of the latest action, 0: none yet
	lastReason    atomic.Int32 // the latest Skip other than Stepped and NotNew
	clockWait     atomic.Bool  // a frame waits for the first /clock
	counts        [NumSkips]atomic.Uint64
	cuts, refused atomic.Uint64
}

// Output is one step's messages. Tick reuses it: it is valid until the
// next Tick.
type Output struct {
	Action msgs.Action
	Stats  msgs.StepStats
	Result policy.StepResult
}

// NewLoop wraps an engine; window is the diagnostics window in steps.
// Every static image is stepped (SetEveryImage(true)) until told otherwise.
func NewLoop(eng *policy.Engine, window int) *Loop {
	l := &Loop{eng: eng, window: NewWindow(window), static: &frame{}, gripper: &frame{}, wall: time.Now}
	for _, c := range eng.Manifest().Cameras {
		l.needGripper = l.needGripper || c.Slot == policy.SlotGripper
	}
	l.inbox.static, l.inbox.gripper = newFrameQueue(), newFrameQueue()
	l.inbox.everyImage = true
	l.started = l.wall()
	return l
}

// SetLimits sets the live input and output limits: the largest age of the
// static image (0: none) and the pose clamp (0: none).
func (l *Loop) SetLimits(maxAge time.Duration, clamp float64) {
	l.mu.Lock()
	l.maxAge, l.clamp = maxAge, float32(clamp)
	l.mu.Unlock()
}

// SetEveryImage says whether every static image is to be stepped, in
// order, while the loop keeps up (on: control.rate_hz 0, a step per image)
// or each tick steps only the latest (off: a fixed control rate).
func (l *Loop) SetEveryImage(on bool) {
	l.mu.Lock()
	l.inbox.everyImage = on
	l.mu.Unlock()
}

// OnStaticImage takes a static camera image.
func (l *Loop) OnStaticImage(m *msgs.Image) {
	l.take(func() { l.nextStatic().setRaw(m, l.nextSeq) })
}

// OnStaticCompressed takes a compressed static camera image.
func (l *Loop) OnStaticCompressed(m *msgs.CompressedImage) {
	l.take(func() { l.nextStatic().setCompressed(m, l.nextSeq) })
}

// OnGripperImage takes a gripper camera image.
func (l *Loop) OnGripperImage(m *msgs.Image) {
	l.take(func() { l.nextGripper().setRaw(m, l.nextSeq) })
}

// OnGripperCompressed takes a compressed gripper camera image.
func (l *Loop) OnGripperCompressed(m *msgs.CompressedImage) {
	l.take(func() { l.nextGripper().setCompressed(m, l.nextSeq) })
}

// OnInstruction takes the language instruction. Every instruction message
// starts a new episode at the next step, even with the same text: that is
// how a task is restarted. An empty (blank) instruction, or one longer
// than MaxInstructionBytes, is refused with an *InstructionError: the
// instruction in force and its episode go on, as the operator meant no
// new task.
func (l *Loop) OnInstruction(text string) error {
	var err error
	l.take(func() {
		if reason := checkInstruction(text); reason != "" {
			err = &InstructionError{Text: text, Reason: reason, Previous: l.inbox.instruction}
			return
		}
		l.inbox.instruction = text
		l.inbox.episode++
	})
	if err != nil {
		l.refused.Add(1)
	}
	return err
}

func (l *Loop) take(f func()) {
	l.mu.Lock()
	f()
	l.mu.Unlock()
	l.lastInput.Store(l.wall().UnixNano())
}

// Reset forgets the episode (the ~/reset service) at the next step. Like
// the On* methods it does not wait for a step in progress.
func (l *Loop) Reset() {
	l.mu.Lock()
	l.inbox.episode++
	l.mu.Unlock()
}

// Window returns the diagnostics window; use it from the Tick goroutine.
func (l *Loop) Window() *Window { return l.window }

// WaitsForClock reports whether a frame is held back until the first
// /clock message: the ROS glue then ticks when /clock arrives, so the
// frame is stepped once the clock makes it fresh.
func (l *Loop) WaitsForClock() bool { return l.clockWait.Load() }

// Backlog reports whether the last Tick took a static image and another
// one is queued to step next: tick again at once, as no new message will
// ask for it (never at a fixed control rate, whose ticks keep the rate).
// Use it from the Tick goroutine.
func (l *Loop) Backlog() bool { return l.backlog }

// Tick runs one step if one is due, at ROS time now (nanoseconds; under
// use_sim_time the latest /clock, 0 before the first). It steps the oldest
// queued static image. It returns the output to publish (nil: nothing),
// and why there is no policy action (Stepped: there is one). A failed step
// returns Failed and its error, naming the stage (a *policy.StepError);
// the loop goes on with the next image. A step whose deadline passes
// before its first exit returns OverDeadline, with the fallback action as
// output when control.deadline_fallback gives one.
func (l *Loop) Tick(now int64) (*Output, Skip, error) {
	l.took = false
	out, skip, err := l.tick(now)
	if l.took {
		l.mu.Lock()
		l.inbox.stepping = false
		l.backlog = l.inbox.everyImage && l.inbox.static.n > 0
		l.mu.Unlock()
	}
	return out, skip, err
}

// tick is Tick less the end of a step (see Tick).
func (l *Loop) tick(now int64) (*Output, Skip, error) {
	l.backlog = false
	l.mu.Lock()
	in := &l.inbox
	if !in.everyImage { // a fixed rate: the latest image only
		for in.static.n > 1 {
			l.dropped(in.static.dropOldest(), false)
		}
	}
	ended := in.ended
	in.ended = [NumSkips]uint64{}
	instruction, episode := in.instruction, in.episode
	maxAge, clamp, deadline, fallback := l.maxAge, l.clamp, l.deadline, l.fallback
	anyStatic, queued := in.anyStatic, in.static.n > 0
	wait := Stepped // why the oldest image waits
	if queued {
		f := in.static.at(0)
		g, paired := l.gripperFor(f)
		switch {
		// Cameras are not synchronised: wait until the gripper image of
		// this frame (or a newer one) is in, so both views are of the
		// same moment.
		case l.needGripper && !paired:
			wait = Incomplete
		case instruction == "":
			wait = NoInstruction
		// Before the first /clock a frame's age is unknown: it waits, not
		// consumed, and steps on the first tick after /clock if still fresh.
		case now == 0 && maxAge > 0:
			wait = NoClock
		}
		if wait != Stepped {
			// The frames behind it wait for the same: the instruction and
			// the clock are the loop's, and a later frame has a later stamp.
			for i := 0; i < in.static.n; i++ {
				in.static.at(i).waited = wait
			}
		} else {
			l.static = in.static.take(l.static)
			if l.needGripper && g >= 0 {
				l.takeGripper(g)
			}
			in.stepping, l.took = true, true
		}
	}
	l.mu.Unlock()

	l.record(&ended)
	l.clockWait.Store(wait == NoClock)
	switch {
	case !anyStatic:
		return l.skip(NoImage)
	case !queued:
		return nil, NotNew, nil
	case wait != Stepped:
		return l.skip(wait)
	}
	if age := time.Duration(now - l.static.stamp.Nanos()); maxAge > 0 && (age > maxAge || age < -maxAge) {
		l.outcome(Stale)
		return l.skip(Stale)
	}
	if episode != l.lastEpisode {
		l.eng.Reset()
		l.lastEpisode = episode
	}
	return l.step(instruction, clamp, deadline, fallback)
}

// Abandon ends every queued static image without a step, as a replay does
// at the end of its bag. Each one a tick saw waiting is counted with the
// reason it waited for; it returns how many no tick saw (not counted).
// Use it from the Tick goroutine.
func (l *Loop) Abandon() (unseen int) {
	l.mu.Lock()
	in := &l.inbox
	for in.static.n > 0 {
		if f := in.static.dropOldest(); f.waited != Stepped {
			in.ended[f.waited]++
		} else {
			unseen++
		}
	}
	ended := in.ended
	in.ended = [NumSkips]uint64{}
	l.mu.Unlock()
	l.record(&ended)
	return unseen
}

// record counts the static images the inbox ended without a step.
func (l *Loop) record(ended *[NumSkips]uint64) {
	for s, n := range ended {
		for ; n > 0; n-- {
			l.outcome(Skip(s))
		}
	}
}

// skip records a tick's reason for diagnostics.
func (l *Loop) skip(s Skip) (*Output, Skip, error) {
	l.lastReason.Store(int32(s))
	return nil, s, nil
}

// outcome counts how a frame ended.
func (l *Loop) outcome(s Skip) {
	l.counts[s].Add(1)
	if s != Stepped {
		l.window.Skipped(s)
	}
}

// step decodes the frame, runs the engine and makes the messages. It never
// panics: a panic in decoding or in making the messages is recovered into
// the step's error, as the engine recovers its stages'.
func (l *Loop) step(instruction string, clamp float32, deadline time.Duration, fallback Fallback) (out *Output, skip Skip, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, skip, err = l.fail(policy.PanicError(l.stage, p))
		}
	}()
	start := l.eng.Now()
	obs := policy.Observation{Instruction: instruction}
	if deadline > 0 {
		obs.Deadline = start.Add(deadline)
	}
	l.stage = "static camera"
	if obs.Static, err = l.static.image(); err != nil {
		return l.fail(&policy.StepError{Stage: l.stage, Err: err})
	}
	if l.gripper.seq != 0 {
		l.stage = "gripper camera"
		if obs.Gripper, err = l.gripper.image(); err != nil {
			return l.fail(&policy.StepError{Stage: l.stage, Err: err})
		}
	}
	l.stage = "engine"
	r, err := l.eng.Step(&obs)
	if errors.Is(err, policy.ErrDeadline) {
		l.stage = "fallback action"
		l.lastReason.Store(int32(OverDeadline))
		return l.overDeadline(&r, fallback, start), OverDeadline, nil
	}
	if err != nil {
		return l.fail(err)
	}
	l.stage = "action"
	if err := l.fillAction(&r, clamp); err != nil {
		return l.fail(&policy.StepError{Stage: l.stage, Err: err})
	}
	l.stage = "step stats"
	l.window.Add(float64(l.out.Action.LatencyMs), r.GFLOPs, r.Exit, r.SolvedGFLOPs, r.DeadlineCut)
	l.fillStats(&r)
	l.outcome(Stepped)
	if r.DeadlineCut {
		l.cuts.Add(1)
	}
	l.prev.valid, l.prev.episode, l.prev.action = true, l.lastEpisode, l.out.Action
	l.lastAction.Store(l.wall().UnixNano())
	return &l.out, Stepped, nil
}

func (l *Loop) fail(err error) (*Output, Skip, error) {
	l.outcome(Failed)
	l.lastReason.Store(int32(Failed))
	return nil, Failed, err
}

func ms(d time.Duration) float32 { return float32(d.Seconds() * 1e3) }

// fillAction makes the Action message of a step, clamped, and checks it
// as published: the clamp passes a NaN through (min and max do), so a
// value that is not finite or not within the clamp fails the step.
func (l *Loop) fillAction(r *policy.StepResult, clamp float32) error {
	o := &l.out
	o.Result = *r
	a := &o.Action
	a.Header = msgs.Header{Stamp: l.static.stamp, FrameID: l.static.frameID}
	for i, v := range r.Action.Pose {
		if clamp > 0 {
			v = max(-clamp, min(clamp, v))
		}
		a.PoseDelta[i] = v
	}
	a.Gripper, a.GripperProbability = r.Action.Gripper, r.Action.GripperProb
	a.ExitIndex, a.GFLOPs, a.LatencyMs = uint8(r.Exit), float32(r.GFLOPs), ms(r.Total)
	return checkAction(a, clamp)
}

// checkAction is the last check before an action is published.
func checkAction(a *msgs.Action, clamp float32) error {
	for i, v := range a.PoseDelta {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || (clamp > 0 && (v > clamp || v < -clamp)) {
			return fmt.Errorf("pose delta %d is %v after the clamp to %v", i, v, clamp)
		}
	}
	if a.Gripper != 1 && a.Gripper != -1 {
		return fmt.Errorf("gripper command %v is not +1 or -1", a.Gripper)
	}
	if p := a.GripperProbability; !(p >= 0 && p <= 1) {
		return fmt.Errorf("gripper probability %v is outside [0, 1]", p)
	}
	return nil
}

// fillStats makes the StepStats message of a step (of an Action already made).
func (l *Loop) fillStats(r *policy.StepResult) {
	s := &l.out.Stats
	s.Header = l.out.Action.Header
	s.ExitIndex, s.MaxExit, s.Held, s.DeadlineCut, s.GFLOPs = uint8(r.Exit), uint8(r.MaxExit), r.Held, r.DeadlineCut, float32(r.GFLOPs)
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

// Counts are a loop's totals since it started, for logs.
type Counts struct {
	ByReason     [NumSkips]uint64 // frames by how they ended ([Stepped]: actions)
	DeadlineCuts uint64           // actions from an exit the deadline chose
	Refused      uint64           // instructions refused
}

// Counts returns the totals so far; safe from any goroutine.
func (l *Loop) Counts() Counts {
	var c Counts
	for i := range c.ByReason {
		c.ByReason[i] = l.counts[i].Load()
	}
	c.DeadlineCuts, c.Refused = l.cuts.Load(), l.refused.Load()
	return c
}

// Activity is when the loop last heard and acted, for diagnostics.
type Activity struct {
	Now, Started, LastInput, LastAction time.Time // LastInput, LastAction: zero if none yet
	LastReason                          Skip      // the latest reason for no action
}

// Activity returns the loop's activity; safe from any goroutine.
func (l *Loop) Activity() Activity {
	a := Activity{Now: l.wall(), Started: l.started, LastReason: Skip(l.lastReason.Load())}
	if t := l.lastInput.Load(); t != 0 {
		a.LastInput = time.Unix(0, t)
	}
	if t := l.lastAction.Load(); t != 0 {
		a.LastAction = time.Unix(0, t)
	}
	return a
}
