package control

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// rig is a node over the scripted 4-exit model (stage 5 is the head) on a
// manual engine clock and a manual wall clock.
type rig struct {
	n     *Node
	l     *Loop
	be    *policytest.Backend
	clock *policytest.Clock
	wall  time.Time
}

func newRig(t *testing.T, startup map[string]Value) *rig {
	t.Helper()
	p, err := DefaultParams().With(startup, true)
	if err != nil {
		t.Fatal(err)
	}
	c := policytest.NewClock()
	n, be := newNodeWith(t, policytest.WriteModel(t, 4), nil, c.Now, p)
	r := &rig{n: n, l: n.Loop(), be: be, clock: c, wall: time.Unix(5000, 0)}
	r.l.wall = func() time.Time { return r.wall }
	r.l.started = r.wall
	return r
}

func (r *rig) set(t *testing.T, changes map[string]Value) {
	t.Helper()
	if err := r.n.SetParams(changes); err != nil {
		t.Fatal(err)
	}
}

const now = int64(time.Hour)

// frame hands the loop a fresh static image and ticks.
func (r *rig) frame(v byte) (*Output, Skip, error) {
	r.l.OnStaticImage(rgbImage(now, v))
	return r.l.Tick(now)
}

func diagValues(d DiagnosticStatus) map[string]string {
	m := map[string]string{}
	for _, kv := range d.Values {
		m[kv.Key] = kv.Value
	}
	return m
}

// A NaN from the model is a failed step: nothing is published, the reason
// names the stage, and /diagnostics stays ERROR for as long as a failed
// step is in its window, however many fail in a row.
func TestFailedStepsPublishNothingAndDiagnosticsSayError(t *testing.T) {
	r := newRig(t, map[string]Value{ParamStatsWindow: Int(50)})
	r.l.OnInstruction("move")
	if _, skip, err := r.frame(1); skip != Stepped || err != nil {
		t.Fatalf("first step: %v %v", skip, err)
	}
	r.be.NaNAtExit = 3
	for i := range 1000 {
		out, skip, err := r.frame(byte(i))
		var se *policy.StepError
		if out != nil || skip != Failed || !errors.As(err, &se) || se.Stage != "exit 3" {
			t.Fatalf("step %d: out %v skip %v error %v, want nothing published, Failed at exit 3", i, out != nil, skip, err)
		}
	}
	d := r.n.Diagnostics()
	if d.Level != DiagError || !strings.Contains(d.Message, "50 of the last 50 frames failed") || diagValues(d)["failed steps in window"] != "50" {
		t.Fatalf("after 1000 failed steps: %+v", d)
	}
	if c := r.l.Counts(); c.ByReason[Failed] != 1000 || c.ByReason[Stepped] != 1 {
		t.Fatalf("counts %+v", c)
	}
	// Good steps push the failures out of the window.
	r.be.NaNAtExit = 0
	for i := range 50 {
		if _, skip, err := r.frame(byte(i)); skip != Stepped || err != nil {
			t.Fatalf("recovery step %d: %v %v", i, skip, err)
		}
	}
	if d := r.n.Diagnostics(); d.Level != DiagOK {
		t.Fatalf("after 50 good steps: %+v", d)
	}
}

// A panic in a stage fails the step with the stage named; the loop goes
// on with the next frame.
func TestPanicsAreStepErrors(t *testing.T) {
	r := newRig(t, nil)
	r.l.OnInstruction("move")
	r.be.BeforeRun = func(stage int) {
		if stage == 2 {
			panic("block 2 is broken")
		}
	}
	_, skip, err := r.frame(1)
	var se *policy.StepError
	if skip != Failed || !errors.As(err, &se) || se.Stage != "exit 2" || !strings.Contains(err.Error(), "panic: block 2 is broken") {
		t.Fatalf("skip %v error %v, want Failed at exit 2 with the panic", skip, err)
	}
	r.be.BeforeRun = nil

	// A panic in the loop's own work (here, decoding into a corrupt
	// buffer) is recovered the same way.
	img := image.NewRGBA(image.Rect(0, 0, policytest.ImageSize, policytest.ImageSize))
	var buf bytes.Buffer
	png.Encode(&buf, img)
	r.l.OnStaticCompressed(&msgs.CompressedImage{Header: msgs.Header{Stamp: msgs.TimeFromNanos(now)}, Format: "png", Data: buf.Bytes()})
	r.l.inbox.static.at(0).rgba = &image.RGBA{Rect: img.Rect, Stride: img.Stride, Pix: make([]byte, 3)}
	_, skip, err = r.l.Tick(now)
	if skip != Failed || !errors.As(err, &se) || se.Stage != "static camera" || !strings.Contains(err.Error(), "panic: runtime error") {
		t.Fatalf("skip %v error %v, want Failed at static camera with the panic", skip, err)
	}
	if _, skip, err := r.frame(2); skip != Stepped || err != nil {
		t.Fatalf("after the panics: %v %v", skip, err)
	}
}

// The last check before publishing: the clamp lets a NaN through, so
// anything not finite or beyond the clamp is refused.
func TestCheckAction(t *testing.T) {
	good := msgs.Action{Gripper: 1, GripperProbability: 0.75}
	if err := checkAction(&good, 1); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	if v := max(-1, min(1, nan)); !math.IsNaN(float64(v)) {
		t.Fatalf("the clamp of NaN is %v: this test's premise changed", v)
	}
	for name, mutate := range map[string]func(a *msgs.Action){
		"NaN pose":           func(a *msgs.Action) { a.PoseDelta[2] = nan },
		"infinite pose":      func(a *msgs.Action) { a.PoseDelta[0] = float32(math.Inf(-1)) },
		"beyond the clamp":   func(a *msgs.Action) { a.PoseDelta[5] = 1.5 },
		"gripper 0":          func(a *msgs.Action) { a.Gripper = 0 },
		"NaN probability":    func(a *msgs.Action) { a.GripperProbability = nan },
		"probability over 1": func(a *msgs.Action) { a.GripperProbability = 1.01 },
	} {
		a := good
		mutate(&a)
		if err := checkAction(&a, 1); err == nil {
			t.Errorf("%s passed the check", name)
		}
	}
	a := good
	a.PoseDelta[0] = 50
	if err := checkAction(&a, 0); err != nil {
		t.Fatalf("no clamp: %v", err)
	}
}

// control.deadline_ms: a slow block ends the step at the deepest exit
// evaluated; a slow encoder leaves no exit, and the fallback decides what
// is published.
func TestLoopDeadline(t *testing.T) {
	r := newRig(t, nil)
	ms := time.Millisecond
	r.set(t, map[string]Value{ParamDeadlineMs: Double(50)})
	r.l.OnInstruction("move")
	r.be.BeforeRun = policytest.SlowStages(r.clock, map[int]time.Duration{0: 10 * ms, 2: 100 * ms})
	out, skip, err := r.frame(1)
	if err != nil || skip != Stepped || out.Action.ExitIndex != 2 || !out.Stats.DeadlineCut || len(out.Stats.Distances) != 2 || out.Action.LatencyMs != 110 {
		t.Fatalf("skip %v err %v action %+v stats %+v, want exit 2 cut after 110 ms", skip, err, out.Action, out.Stats)
	}
	last := out.Action
	if v := diagValues(r.n.Diagnostics()); v["deadline cuts in window"] != "1" {
		t.Fatalf("diagnostics %v", v)
	}

	r.be.BeforeRun = policytest.SlowStages(r.clock, map[int]time.Duration{0: 100 * ms})
	if out, skip, err := r.frame(2); out != nil || skip != OverDeadline || err != nil {
		t.Fatalf("fallback none: out %v skip %v err %v, want nothing, OverDeadline", out != nil, skip, err)
	}
	d := r.n.Diagnostics()
	if d.Level != DiagWarn || !strings.Contains(d.Message, "deadline") || diagValues(d)["no action in window: over deadline"] != "1" {
		t.Fatalf("diagnostics %+v", d)
	}

	r.set(t, map[string]Value{ParamDeadlineFallback: String("stop")})
	out, skip, err = r.frame(3)
	if out == nil || skip != OverDeadline || err != nil {
		t.Fatalf("fallback stop: out %v skip %v err %v", out != nil, skip, err)
	}
	if out.Action.PoseDelta != [6]float32{} || out.Action.Gripper != last.Gripper || out.Action.ExitIndex != 0 || !out.Stats.DeadlineCut || out.Stats.ExitIndex != 0 {
		t.Fatalf("stop fallback %+v stats %+v, want zero deltas, gripper %v, exit 0, cut", out.Action, out.Stats, last.Gripper)
	}
	if out.Action.Header.Stamp.Nanos() != now {
		t.Fatalf("fallback stamp %v, want the frame's", out.Action.Header.Stamp)
	}

	r.set(t, map[string]Value{ParamDeadlineFallback: String("hold")})
	if out, _, _ := r.frame(4); out == nil || out.Action.PoseDelta != last.PoseDelta || out.Action.ExitIndex != 0 {
		t.Fatalf("hold fallback %+v, want the last action's deltas %v", out, last.PoseDelta)
	}
	// A new episode has no action to fall back on.
	r.l.OnInstruction("move")
	if out, skip, _ := r.frame(5); out != nil || skip != OverDeadline {
		t.Fatalf("fallback in a new episode: out %v skip %v, want nothing", out != nil, skip)
	}
	if err := r.n.SetParams(map[string]Value{ParamDeadlineFallback: String("brake")}); err == nil || !strings.Contains(err.Error(), "none, stop, hold") {
		t.Fatalf("fallback brake: %v", err)
	}
}

// Each frame that ends without an action is counted by its reason, the
// waiting ones (no instruction, no gripper image) when a newer frame
// replaces them.
func TestSkipReasonsCounted(t *testing.T) {
	r := newRig(t, nil)
	for v := byte(1); v <= 3; v++ { // each replaces the last: no burst once a task starts
		if _, skip, _ := r.frame(v); skip != NoInstruction {
			t.Fatalf("skip %v, want %v", skip, NoInstruction)
		}
	}
	r.l.needGripper = true // as for a model with a gripper camera
	r.l.OnInstruction("move")
	if _, skip, _ := r.frame(4); skip != Incomplete {
		t.Fatalf("skip %v, want %v", skip, Incomplete)
	}
	r.l.OnGripperImage(rgbImage(now, 1))
	if _, skip, _ := r.l.Tick(now); skip != Stepped {
		t.Fatalf("with the gripper image: %v", skip)
	}
	// Newer than the gripper image, they queue while they wait; the two
	// oldest fall out of the full queue.
	for i := int64(1); i <= QueueDepth+2; i++ {
		r.l.OnStaticImage(rgbImage(now+i, 1))
		if _, skip, _ := r.l.Tick(now); skip != Incomplete {
			t.Fatalf("skip %v, want %v", skip, Incomplete)
		}
	}
	r.l.OnGripperImage(rgbImage(now+QueueDepth+2, 1))
	for i := 0; i < QueueDepth; i++ {
		if _, skip, _ := r.l.Tick(now); skip != Stepped {
			t.Fatalf("queued frame %d: %v", i, skip)
		}
	}
	r.l.OnStaticImage(rgbImage(now-int64(time.Second), 5))
	if _, skip, _ := r.l.Tick(now); skip != Stale {
		t.Fatalf("skip %v, want %v", skip, Stale)
	}
	c := r.l.Counts()
	// Each frame counts once: frames 1-3 for the instruction, the two
	// that fell out of the queue for their gripper images, the last one
	// stale, the rest stepped.
	want := map[Skip]uint64{NoInstruction: 3, Incomplete: 2, Stale: 1, Stepped: 1 + QueueDepth}
	for s, n := range want {
		if c.ByReason[s] != n {
			t.Errorf("%v: %d, want %d", s, c.ByReason[s], n)
		}
	}
	if v := diagValues(r.n.Diagnostics()); v["no action in window: no instruction yet"] != "3" || v["no action in window: no gripper image for this frame"] != "2" || v["frames in window"] != fmt.Sprint(7+QueueDepth) {
		t.Fatalf("diagnostics %v", v)
	}
}

// /diagnostics warns when messages arrive but no action comes out for
// diagnostics.no_action_warn_s, and says why.
func TestDiagnosticsWarnWhenNoAction(t *testing.T) {
	r := newRig(t, nil)
	for i := range 5 {
		r.wall = r.wall.Add(time.Second)
		r.frame(byte(i))
		d := r.n.Diagnostics()
		switch {
		case i < 2 && (d.Level != DiagStale || d.Message != "no steps yet: no instruction yet"):
			t.Fatalf("after %d s: %+v, want STALE (no steps yet)", i+1, d)
		case i >= 2 && (d.Level != DiagWarn || !strings.Contains(d.Message, "no action for") || !strings.Contains(d.Message, "no instruction yet")):
			t.Fatalf("after %d s: %+v, want WARN naming the reason", i+1, d)
		}
	}
	// No messages for a while: nothing is arriving, so nothing to warn of.
	r.wall = r.wall.Add(time.Minute)
	if d := r.n.Diagnostics(); d.Level == DiagWarn {
		t.Fatalf("with no messages: %+v", d)
	}
	r.l.OnInstruction("move")
	r.frame(9)
	if d := r.n.Diagnostics(); d.Level != DiagOK {
		t.Fatalf("after an action: %+v", d)
	}
	r.set(t, map[string]Value{ParamNoActionWarnS: Double(0)})
	r.wall = r.wall.Add(time.Minute)
	r.l.OnStaticImage(rgbImage(0, 1))
	if d := r.n.Diagnostics(); d.Level != DiagOK {
		t.Fatalf("warning off: %+v", d)
	}
}

// A frame that arrives before the first /clock waits for it, and is
// stepped once the clock makes it fresh: ros2 bag play --clock gives one
// action per image.
func TestFrameBeforeFirstClockSteps(t *testing.T) {
	r := newRig(t, nil)
	r.l.OnInstruction("move")
	t0 := int64(50 * time.Second)
	r.l.OnStaticImage(rgbImage(t0, 1))
	if _, skip, _ := r.l.Tick(0); skip != NoClock || !r.l.WaitsForClock() {
		t.Fatalf("before /clock: %v, waits %v", skip, r.l.WaitsForClock())
	}
	actions := 0
	for i, clock := range []int64{t0 + int64(time.Millisecond), t0 + int64(100*time.Millisecond), t0 + int64(200*time.Millisecond)} {
		if i > 0 {
			r.l.OnStaticImage(rgbImage(clock, byte(i)))
		}
		out, skip, err := r.l.Tick(clock)
		if err != nil || skip != Stepped || out.Action.Header.Stamp.Nanos() != max(t0, clock) && i > 0 {
			t.Fatalf("image %d: %v %v", i, skip, err)
		}
		actions++
	}
	if actions != 3 || r.l.WaitsForClock() || r.l.Counts().ByReason[NoClock] != 0 {
		t.Fatalf("%d actions for 3 images, waits %v", actions, r.l.WaitsForClock())
	}
	// A frame still waiting when the clock shows it stale is counted stale.
	r.l.OnStaticImage(rgbImage(t0, 1))
	if _, skip, _ := r.l.Tick(t0 + int64(time.Hour)); skip != Stale {
		t.Fatalf("late clock: %v, want %v", skip, Stale)
	}
}

// Several frames that arrive before the first /clock, together or apart
// (the start of ros2 bag play --clock), all wait, and each steps, in
// order, once the clock makes it fresh: one action per image.
func TestFramesBeforeFirstClockAllStep(t *testing.T) {
	r := newRig(t, nil)
	r.l.OnInstruction("move")
	t0 := int64(50 * time.Second)
	r.l.OnStaticImage(rgbImage(t0, 1))
	r.l.OnStaticImage(rgbImage(t0+int64(100*time.Millisecond), 2)) // together: no tick between
	if _, skip, _ := r.l.Tick(0); skip != NoClock || !r.l.WaitsForClock() {
		t.Fatalf("before /clock: %v, waits %v", skip, r.l.WaitsForClock())
	}
	r.l.OnStaticImage(rgbImage(t0+int64(200*time.Millisecond), 3))
	if _, skip, _ := r.l.Tick(0); skip != NoClock {
		t.Fatalf("before /clock: %v", skip)
	}
	clock := t0 + int64(250*time.Millisecond)
	for i := int64(0); i < 3; i++ {
		out, skip, err := r.l.Tick(clock)
		if err != nil || skip != Stepped || out.Action.Header.Stamp.Nanos() != t0+i*int64(100*time.Millisecond) {
			t.Fatalf("image %d: %v %v", i+1, skip, err)
		}
		if r.l.Backlog() != (i < 2) || r.l.WaitsForClock() {
			t.Fatalf("image %d: backlog %v, waits %v", i+1, r.l.Backlog(), r.l.WaitsForClock())
		}
	}
	if c := r.l.Counts(); c.ByReason[Stepped] != 3 || c.ByReason[NoClock] != 0 || c.ByReason[Superseded] != 0 {
		t.Fatalf("counts %v, want 3 stepped", c.ByReason)
	}
}

// An empty or oversized instruction is refused with a short reason, and
// the instruction in force goes on without a new episode.
func TestInstructionRefused(t *testing.T) {
	r := newRig(t, nil)
	if err := r.l.OnInstruction(""); err == nil || !strings.Contains(err.Error(), "empty; no instruction yet") {
		t.Fatalf("empty first instruction: %v", err)
	}
	if err := r.l.OnInstruction("move to the red block"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := r.frame(1); err != nil || !out.Result.Reset {
		t.Fatalf("first step: %v", err)
	}
	huge := strings.Repeat("move ", 20000)
	for _, text := range []string{"", "  \t\n", huge} {
		err := r.l.OnInstruction(text)
		var ie *InstructionError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), `still acting on "move to the red block"`) {
			t.Fatalf("instruction of %d bytes: %v", len(text), err)
		}
		if len(err.Error()) > 300 {
			t.Fatalf("the refusal of %d bytes quotes too much: %d bytes", len(text), len(err.Error()))
		}
		out, skip, err := r.frame(2)
		if err != nil || skip != Stepped || out.Result.Reset {
			t.Fatalf("after the refusal: %v %v, reset %v: want the old episode going on", skip, err, out != nil && out.Result.Reset)
		}
	}
	if err := r.l.OnInstruction(huge); !strings.Contains(err.Error(), "(100000 bytes)") || !strings.Contains(err.Error(), "longer than 4096 bytes") {
		t.Fatalf("oversized: %v", err)
	}
	if got := r.l.Counts().Refused; got != 5 {
		t.Fatalf("%d refused, want 5", got)
	}
}

func TestShortQuote(t *testing.T) {
	if got := ShortQuote("move"); got != `"move"` {
		t.Fatal(got)
	}
	s := strings.Repeat("é", 100) // 2 bytes each: byte 80 is a character start, 79 is not
	got := ShortQuote("x" + s)
	if !strings.HasSuffix(got, `..." (201 bytes)`) || strings.Contains(got, `\x`) {
		t.Fatalf("%s: want a cut on a character boundary and the length", got)
	}
}

// The checks, counts and deadline cost no allocation in the steady state.
func TestTickAllocatesNothing(t *testing.T) {
	r := newRig(t, nil)
	r.set(t, map[string]Value{ParamDeadlineMs: Double(1000)})
	r.l.OnInstruction("move")
	img := rgbImage(now, 1)
	r.l.OnStaticImage(img)
	r.l.Tick(now)
	allocs := testing.AllocsPerRun(100, func() {
		r.l.OnStaticImage(img)
		if _, skip, err := r.l.Tick(now); skip != Stepped || err != nil {
			t.Fatal(skip, err)
		}
		r.l.Tick(now) // not new
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per tick, want 0", allocs)
	}
}

// A static image that arrives while a step runs replaces the queued ones:
// the loop is behind, so the newest steps next, and each replaced one is
// counted Superseded. Queued images each step with their own gripper image.
func TestSupersededFramesCounted(t *testing.T) {
	r := newRig(t, nil)
	r.l.needGripper = true
	r.l.OnInstruction("move")
	for i := int64(0); i < 3; i++ { // three frames arrive together
		r.l.OnStaticImage(rgbImage(now+i, byte(10+i)))
		r.l.OnGripperImage(rgbImage(now+i, byte(20+i)))
	}
	arrive := 0
	r.be.BeforeRun = func(stage int) {
		if stage == 0 && arrive > 0 { // during the first step: two more frames
			arrive--
			r.l.OnStaticImage(rgbImage(now+10, 30))
			r.l.OnStaticImage(rgbImage(now+11, 31))
			r.l.OnGripperImage(rgbImage(now+11, 41))
		}
	}
	arrive = 1
	if _, skip, _ := r.l.Tick(now + 2); skip != Stepped || !r.l.Backlog() {
		t.Fatalf("skip %v backlog %v, want the first frame stepped, more queued", skip, r.l.Backlog())
	}
	// The test model has no gripper camera: look at the frame the step
	// paired with the static one.
	if g := r.l.gripper.raw.Data[0]; g != 20 {
		t.Fatalf("first step's gripper view %v, want its own frame's 20", g)
	}
	if _, skip, _ := r.l.Tick(now + 11); skip != Stepped || r.l.Backlog() {
		t.Fatalf("skip %v backlog %v, want the newest frame stepped, none left", skip, r.l.Backlog())
	}
	if s, g := r.be.Float32("static_image")[0], r.l.gripper.raw.Data[0]; math.Abs(float64(s)-31.0/255) > 1e-6 || g != 41 {
		t.Fatalf("second step saw %v and %v, want the newest frame's %v and 41", s, g, 31.0/255)
	}
	c := r.l.Counts()
	// Frames 2 and 3 were queued, and 4 arrived with 5 during the step.
	want := map[Skip]uint64{Superseded: 3, Stepped: 2}
	for s, n := range want {
		if c.ByReason[s] != n {
			t.Errorf("%v: %d, want %d", s, c.ByReason[s], n)
		}
	}
	if v := diagValues(r.n.Diagnostics()); v["no action in window: "+Superseded.String()] != "3" {
		t.Fatalf("diagnostics %v", v)
	}
}
