package control

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

func newTestNode(t *testing.T) (*Node, *policytest.Backend) {
	t.Helper()
	return newNodeOn(t, policytest.WriteModel(t, 4), nil)
}

// newNodeOn builds a node with default parameters over the scripted model m
// and calibrations cals.
func newNodeOn(t *testing.T, m *policy.Manifest, cals []*policy.Calibration) (*Node, *policytest.Backend) {
	t.Helper()
	return newNodeWith(t, m, cals, nil, DefaultParams())
}

// newNodeWith builds a node with parameters p over the scripted model m,
// with calibrations cals and the engine clock (nil: time.Now).
func newNodeWith(t *testing.T, m *policy.Manifest, cals []*policy.Calibration, clock func() time.Time, p Params) (*Node, *policytest.Backend) {
	t.Helper()
	be := policytest.NewBackend(m)
	eng, err := policy.New(policy.Config{Manifest: m, Backend: be, Calibrations: cals, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	n, err := NewNode(eng, p)
	if err != nil {
		t.Fatal(err)
	}
	return n, be
}

func TestParamsCheckKindRangeAndReadOnly(t *testing.T) {
	p := DefaultParams()
	tests := []struct {
		name    string
		changes map[string]Value
		wreason string
	}{
		{"unknown", map[string]Value{"budget.avg": Double(1)}, "no such parameter"},
		{"read-only", map[string]Value{ParamModelPath: String("/tmp/m")}, "read-only"},
		{"wrong kind", map[string]Value{ParamAvgGFLOPs: String("2")}, `budget.avg_gflops = "2" rejected: expects a double, got a string`},
		{"negative", map[string]Value{ParamPeakGFLOPs: Double(-1)}, "out of range: must be from 0 to 1000000"},
		{"metric", map[string]Value{ParamMetric: String("manhattan")}, "want one of rms, l2, max, cosine, rms_gripper"},
		{"hold range", map[string]Value{ParamHoldSteps: Int(5000)}, "out of range"},
		{"infinite threshold", map[string]Value{ParamThresholds: Doubles([]float64{1, math.Inf(1)})}, "finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.With(tc.changes, false)
			var pe *ParamError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.wreason) {
				t.Fatalf("error %v, want a ParamError with %q", err, tc.wreason)
			}
			if q.Double(ParamAvgGFLOPs) != 0 || q.Str(ParamMetric) != "cosine" {
				t.Fatal("a rejected batch changed values")
			}
		})
	}
	// An integer for a double is promoted (ros2 param set x 7).
	q, err := p.With(map[string]Value{ParamAvgGFLOPs: Int(7)}, false)
	if err != nil || q.Double(ParamAvgGFLOPs) != 7 {
		t.Fatalf("integer promotion: %v, %v", err, q.Double(ParamAvgGFLOPs))
	}
	// Read-only values are settable at start-up.
	if q, err := p.With(map[string]Value{ParamModelPath: String("/m")}, true); err != nil || q.Str(ParamModelPath) != "/m" {
		t.Fatalf("start-up: %v", err)
	}
	// One bad value rejects the whole batch.
	if _, err := p.With(map[string]Value{ParamAvgGFLOPs: Double(2), ParamMetric: String("x")}, false); err == nil {
		t.Fatal("a batch with one bad value was accepted")
	}
}

func TestNodeRejectsWhatTheEngineRejectsAndKeepsOld(t *testing.T) {
	n, be := newTestNode(t)
	if err := n.SetParams(map[string]Value{ParamPeakGFLOPs: Double(2)}); err != nil {
		t.Fatal(err)
	}
	if be.Loaded(3) {
		t.Fatal("peak budget did not unload block 3")
	}
	err := n.SetParams(map[string]Value{ParamPeakGFLOPs: Double(0.5), ParamHoldSteps: Int(3)})
	if err == nil || !strings.Contains(err.Error(), "below exit 1") {
		t.Fatalf("error %v, want the engine's reason", err)
	}
	if p := n.Params(); p.Double(ParamPeakGFLOPs) != 2 || p.Int(ParamHoldSteps) != 0 {
		t.Fatal("a rejected batch changed parameters")
	}
	if n.Engine().Plan().PeakGFLOPs != 2 {
		t.Fatal("a rejected batch changed the engine")
	}
	err = n.SetParams(map[string]Value{ParamThresholds: Doubles([]float64{1, 2})})
	if err == nil || !strings.Contains(err.Error(), "4 exits") {
		t.Fatalf("threshold count: %v", err)
	}
}

func rgbImage(stamp int64, v byte) *msgs.Image {
	data := bytes.Repeat([]byte{v}, policytest.ImageSize*policytest.ImageSize*3)
	return &msgs.Image{Header: msgs.Header{Stamp: msgs.TimeFromNanos(stamp), FrameID: "cam"},
		Width: policytest.ImageSize, Height: policytest.ImageSize, Encoding: "rgb8", Step: policytest.ImageSize * 3, Data: data}
}

func TestLoopSkipsAndSteps(t *testing.T) {
	n, _ := newTestNode(t)
	l := n.Loop()
	now := int64(100 * time.Second)
	if _, skip, _ := l.Tick(now); skip != NoImage {
		t.Fatalf("skip %v, want %v", skip, NoImage)
	}
	l.OnStaticImage(rgbImage(now-int64(time.Millisecond), 1))
	if _, skip, _ := l.Tick(now); skip != NoInstruction {
		t.Fatalf("skip %v, want %v", skip, NoInstruction)
	}
	l.OnInstruction("move to the red block")
	l.OnStaticImage(rgbImage(now-int64(2*time.Millisecond), 2))
	out, skip, err := l.Tick(now)
	if err != nil || skip != Stepped {
		t.Fatalf("tick: %v %v", skip, err)
	}
	if out.Action.Header.Stamp.Nanos() != now-int64(2*time.Millisecond) || out.Action.Header.FrameID != "cam" || out.Stats.Header != out.Action.Header {
		t.Fatalf("header %+v not copied from the image", out.Action.Header)
	}
	if out.Action.ExitIndex != 4 || len(out.Stats.Distances) != 4 || len(out.Stats.StageMs) != 6 {
		t.Fatalf("action %+v stats %+v", out.Action, out.Stats)
	}
	if _, skip, _ := l.Tick(now); skip != NotNew {
		t.Fatalf("skip %v, want %v", skip, NotNew)
	}
	// Stale images are skipped, by ROS time.
	l.OnStaticImage(rgbImage(now-int64(time.Second), 3))
	if _, skip, _ := l.Tick(now); skip != Stale {
		t.Fatalf("skip %v, want %v", skip, Stale)
	}
	// Under sim time before the first /clock, nothing steps.
	l.OnStaticImage(rgbImage(0, 3))
	if _, skip, _ := l.Tick(0); skip != NoClock {
		t.Fatalf("skip %v, want %v", skip, NoClock)
	}
}

// Images that arrive together (as the first frames of a ros2 bag play
// do) all step, oldest first, one tick each: Backlog says to tick again.
func TestLoopStepsEveryImageInOrder(t *testing.T) {
	n, be := newTestNode(t)
	l := n.Loop()
	l.OnInstruction("move")
	now := int64(time.Hour)
	for v := byte(1); v <= 5; v++ {
		l.OnStaticImage(rgbImage(now, v*10))
	}
	for v := byte(1); v <= 5; v++ {
		if _, skip, err := l.Tick(now); skip != Stepped || err != nil {
			t.Fatalf("image %d: %v %v", v, skip, err)
		}
		if got := be.Float32("static_image")[0]; math.Abs(float64(got)-float64(v*10)/255) > 1e-6 {
			t.Fatalf("step %d saw %v, want image %d's %v", v, got, v, float64(v*10)/255)
		}
		if l.Backlog() != (v < 5) {
			t.Fatalf("after image %d: backlog %v", v, l.Backlog())
		}
	}
	if _, skip, _ := l.Tick(now); skip != NotNew {
		t.Fatalf("skip %v, want %v", skip, NotNew)
	}
}

// At a fixed control rate a tick steps the latest image only: the others
// are replaced, and counted so.
func TestLoopFixedRateStepsLatest(t *testing.T) {
	n, be := newTestNode(t)
	if err := n.SetParams(map[string]Value{ParamRateHz: Double(10)}); err != nil {
		t.Fatal(err)
	}
	l := n.Loop()
	l.OnInstruction("move")
	now := int64(time.Hour)
	for v := byte(1); v <= 5; v++ {
		l.OnStaticImage(rgbImage(now, v*10))
	}
	if _, skip, err := l.Tick(now); skip != Stepped || err != nil || l.Backlog() {
		t.Fatalf("%v %v backlog %v", skip, err, l.Backlog())
	}
	if got := be.Float32("static_image")[0]; math.Abs(float64(got)-50.0/255) > 1e-6 {
		t.Fatalf("model saw %v, want the latest image's %v", got, 50.0/255)
	}
	if c := l.Counts(); be.Step != 1 || c.ByReason[Superseded] != 4 {
		t.Fatalf("%d steps, %d superseded for 5 images, want 1 and 4", be.Step, c.ByReason[Superseded])
	}
}

func TestLoopCompressedAndClamp(t *testing.T) {
	n, be := newTestNode(t)
	if err := n.SetParams(map[string]Value{ParamActionClamp: Double(2.5)}); err != nil {
		t.Fatal(err)
	}
	l := n.Loop()
	l.OnInstruction("move")
	img := image.NewRGBA(image.Rect(0, 0, policytest.ImageSize, policytest.ImageSize))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Set(0, 0, color.RGBA{R: 51, A: 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	now := int64(time.Hour)
	l.OnStaticCompressed(&msgs.CompressedImage{Header: msgs.Header{Stamp: msgs.TimeFromNanos(now)}, Format: "png", Data: buf.Bytes()})
	out, _, err := l.Tick(now)
	if err != nil {
		t.Fatal(err)
	}
	if got := be.Float32("static_image")[0]; math.Abs(float64(got)-0.2) > 1e-6 {
		t.Fatalf("decoded pixel %v, want 0.2", got)
	}
	// The scripted head puts 4 in every pose value: clamped to 2.5.
	if out.Action.PoseDelta[0] != 2.5 || out.Result.Action.Pose[0] != 4 {
		t.Fatalf("pose %v, want clamped 2.5 of 4", out.Action.PoseDelta)
	}
	l.OnStaticCompressed(&msgs.CompressedImage{Header: msgs.Header{Stamp: msgs.TimeFromNanos(now)}, Format: "png", Data: []byte("garbage")})
	if _, _, err := l.Tick(now); err == nil || !strings.Contains(err.Error(), "static camera") {
		t.Fatalf("corrupt png: %v", err)
	}
	// The loop goes on with the next good image.
	l.OnStaticImage(rgbImage(now, 1))
	if _, skip, err := l.Tick(now); err != nil || skip != Stepped {
		t.Fatalf("after a bad image: %v %v", skip, err)
	}
}

// Every instruction message starts a new episode, even with the same text.
func TestLoopResetsOnEveryInstruction(t *testing.T) {
	n, _ := newTestNode(t)
	l := n.Loop()
	now := int64(time.Hour)
	resets := []bool{}
	for _, instr := range []string{"move", "", "move", ""} {
		if instr != "" {
			l.OnInstruction(instr)
		}
		l.OnStaticImage(rgbImage(now, 1))
		out, _, err := l.Tick(now)
		if err != nil {
			t.Fatal(err)
		}
		resets = append(resets, out.Result.Reset)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(resets, want) {
		t.Fatalf("resets %v, want %v", resets, want)
	}
	// ~/reset starts a new episode at the next step, without waiting.
	l.Reset()
	l.OnStaticImage(rgbImage(now, 1))
	if out, _, err := l.Tick(now); err != nil || !out.Result.Reset {
		t.Fatalf("after Reset: %v, reset %v", err, out != nil && out.Result.Reset)
	}
}

func TestWindowSummary(t *testing.T) {
	w := NewWindow(4)
	for i, lat := range []float64{100, 1, 2, 3, 4} { // the first falls out
		w.Add(lat, float64(i), 1+i%2, 0, i == 4)
	}
	s := w.Summary()
	if s.Steps != 4 || s.LatencyP50 != 2 || s.LatencyP99 != 4 || s.AvgGFLOPs != 2.5 || s.PeakGFLOPs != 4 || s.ExitCounts[1] != 2 || s.ExitCounts[2] != 2 {
		t.Fatalf("summary %+v", s)
	}
}

func TestHelpListsEveryParameter(t *testing.T) {
	h := Help()
	for _, d := range Descriptors {
		if !strings.Contains(h, d.Name) {
			t.Errorf("help lacks %s", d.Name)
		}
	}
}

func TestDiagnostics(t *testing.T) {
	n, _ := newTestNode(t)
	if d := n.Diagnostics(); d.Level != DiagStale {
		t.Fatalf("before any step: %+v", d)
	}
	l := n.Loop()
	l.OnInstruction("move")
	l.OnStaticImage(rgbImage(int64(time.Hour), 1))
	if _, _, err := l.Tick(int64(time.Hour)); err != nil {
		t.Fatal(err)
	}
	d := n.Diagnostics()
	values := map[string]string{}
	for _, kv := range d.Values {
		values[kv.Key] = kv.Value
	}
	if d.Level != DiagOK || values["exit 4 steps"] != "1" || values["steps in window"] != "1" || values["latency p95 ms"] == "" {
		t.Fatalf("diagnostics %+v", d)
	}
}

func TestClock(t *testing.T) {
	sim := NewClock(true)
	if sim.Now() != 0 {
		t.Fatal("sim time before /clock is not 0")
	}
	sim.OnClock(5e9)
	sim.OnClock(2e9) // a looping bag jumps back
	if sim.Now() != 2e9 {
		t.Fatalf("sim time %d", sim.Now())
	}
	if wall := NewClock(false).Now(); time.Since(time.Unix(0, wall)) > time.Minute {
		t.Fatal("wall clock is not wall time")
	}
}
