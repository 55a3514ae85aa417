package replay

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/nodes/control"
)

// replayBag replays bagPath with the tiny test model and changes, under
// cfg's topics and output.
func replayBag(t *testing.T, cfg Config, changes map[string]control.Value) *Report {
	t.Helper()
	node, p := newNode(t, changes)
	cfg.Params = p
	rep, err := Run(cfg, node, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// saneText fails when a report prints a NaN, an infinity or an absurdly
// long number.
func saneText(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, "NaN") || strings.Contains(text, "Inf") || regexp.MustCompile(`[0-9.]{25,}`).MatchString(text) {
		t.Fatalf("report with a NaN, infinity or absurd number:\n%s", text)
	}
}

// A bag without the gripper camera runs no step, and the report says so:
// what the replay expected, what the bag has, every image counted as
// waiting for its gripper image.
func TestReplayWithoutGripperSaysWhy(t *testing.T) {
	g := loadGolden(t)
	names := DefaultTopics
	names.Gripper = ""
	rep := replayBag(t, Config{Bag: writeBag(t, g, bagSpec{topics: names})}, nil)
	if rep.Steps != 0 || rep.NotRun[control.Incomplete.String()] != len(g.Steps) || rep.NotRunTotal() != len(g.Steps) {
		t.Fatalf("steps %d, not run %v; want 0 and %d waiting for the gripper image", rep.Steps, rep.NotRun, len(g.Steps))
	}
	if len(rep.Missing) != 1 {
		t.Fatalf("missing %q, want the gripper camera alone", rep.Missing)
	}
	for _, s := range []string{"gripper camera", "/gripper_image (sensor_msgs/msg/Image)", "/gripper_image/compressed", "-remap /gripper_image:=TOPIC",
		"the bag has /static_image (sensor_msgs/msg/Image), /instruction (std_msgs/msg/String), /expert_action"} {
		if !strings.Contains(strings.ToLower(rep.Missing[0]), strings.ToLower(s)) {
			t.Errorf("missing-input message lacks %q:\n%s", s, rep.Missing[0])
		}
	}
	if err := rep.Check(); !errors.Is(err, ErrNoStep) || !strings.Contains(err.Error(), "gripper camera") {
		t.Fatalf("Check() = %v, want ErrNoStep naming the gripper camera", err)
	}
	text := rep.Text()
	saneText(t, text)
	for _, s := range []string{"MISSING INPUT", "actions                  none", control.Incomplete.String(), "no action, so no figures"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}
}

// With zero actions (no instruction) the report is sane and names the
// reason; a bag with a wrongly typed topic is reported as such.
func TestReplayZeroActionsReport(t *testing.T) {
	g := loadGolden(t)
	names := DefaultTopics
	names.Instruction = ""
	rep := replayBag(t, Config{Bag: writeBag(t, g, bagSpec{topics: names})}, nil)
	if rep.Steps != 0 || rep.NotRun[control.NoInstruction.String()] != len(g.Steps) {
		t.Fatalf("steps %d, not run %v", rep.Steps, rep.NotRun)
	}
	saneText(t, rep.Text())
	if !strings.Contains(rep.Text(), "no instruction") || !errors.Is(rep.Check(), ErrNoStep) {
		t.Fatalf("Check() %v, report:\n%s", rep.Check(), rep.Text())
	}

	// The instruction's topic holds images: named as the wrong type.
	wrong := DefaultTopics
	wrong.Instruction = "/gripper_image"
	rep = replayBag(t, Config{Bag: writeGoldenBag(t, g, 1, false), Topics: wrong}, nil)
	if len(rep.Missing) != 1 || !strings.Contains(rep.Missing[0], "in the bag /gripper_image is sensor_msgs/msg/Image") {
		t.Fatalf("missing %q", rep.Missing)
	}
	saneText(t, rep.Text())
}

// A replay whose every step fails says so apart from one that ran none.
func TestReplayAllStepsFailed(t *testing.T) {
	g := loadGolden(t)
	rep := replayBag(t, Config{Bag: writeBag(t, g, bagSpec{encoding: "yuv422"})}, nil)
	if rep.Steps != 0 || rep.StepErrors != len(g.Steps) || rep.NotRun[Failed] != len(g.Steps) {
		t.Fatalf("steps %d, errors %d, not run %v", rep.Steps, rep.StepErrors, rep.NotRun)
	}
	if err := rep.Check(); !errors.Is(err, ErrAllFailed) {
		t.Fatalf("Check() = %v, want ErrAllFailed", err)
	}
	saneText(t, rep.Text())
}

// A bag with other topic names replays, once remapped, to the same actions
// as the node's own names give.
func TestReplayRemappedTopics(t *testing.T) {
	g := loadGolden(t)
	want := replayBag(t, Config{Bag: writeGoldenBag(t, g, 1, false)}, nil)
	other := Topics{Static: "/cam/front/image_raw", Gripper: "/cam/wrist/image_raw", Instruction: "/task", Expert: "/teleop/action"}
	bagDir := writeBag(t, g, bagSpec{topics: other})

	plain := replayBag(t, Config{Bag: bagDir}, nil)
	if plain.Steps != 0 || len(plain.Missing) != 3 {
		t.Fatalf("without remaps: %d steps, missing %q", plain.Steps, plain.Missing)
	}
	topics, err := Topics{}.Remap([]string{"static_image:=/cam/front/image_raw", "/gripper_image:=/cam/wrist/image_raw", "instruction:=/task", "/expert_action:=/teleop/action"})
	if err != nil {
		t.Fatal(err)
	}
	got := replayBag(t, Config{Bag: bagDir, Topics: topics}, nil)
	if got.Steps != len(g.Steps) || got.ActionsSHA256() != want.ActionsSHA256() || got.Compared() != len(g.Steps) || len(got.Missing) != 0 {
		t.Fatalf("remapped: %d steps, %d compared, missing %q, sha %s; want %d steps, sha %s", got.Steps, got.Compared(), got.Missing, got.ActionsSHA256(), len(g.Steps), want.ActionsSHA256())
	}
}

func TestTopicsRemap(t *testing.T) {
	got, err := Topics{}.Remap([]string{"static_image:=/cam/image_raw", "/gripper_image/compressed:=/wrist/compressed", "gripper_image:=wrist/raw", "~/step_stats:=/stats", "action:=/arm/cmd"})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultTopics
	want.Static, want.StaticCompressed = "/cam/image_raw", "/cam/image_raw/compressed"
	want.Gripper, want.GripperCompressed = "/wrist/raw", "/wrist/compressed" // an explicit rule wins over the derived one, in any order
	want.Stats, want.Action = "/stats", "/arm/cmd"
	if got != want {
		t.Fatalf("Remap:\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"/static_image", ":=/x", "/static_image:=", "/camera:=/x"} {
		if _, err := (Topics{}).Remap([]string{bad}); err == nil {
			t.Errorf("Remap(%q) gave no error", bad)
		}
	}
	if _, err := (Topics{}).Remap([]string{"/camera:=/x"}); err == nil || !strings.Contains(err.Error(), "/static_image, ") {
		t.Errorf("unknown remap: %v, want the replay's topics listed", err)
	}
}

// -out keeps each input topic's recorded QoS, and a path ending in .mcap
// is one MCAP file, anything else a bag folder.
func TestReplayOutputKeepsQoSAndName(t *testing.T) {
	g := loadGolden(t)
	bagDir := writeGoldenBag(t, g, 1, false)
	for _, name := range []string{"replayed.mcap", "replayed"} {
		out := filepath.Join(t.TempDir(), name)
		replayBag(t, Config{Bag: bagDir, OutBag: out}, nil)
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".mcap") == fi.IsDir() {
			t.Fatalf("%s: IsDir %v", name, fi.IsDir())
		}
		r, err := bag.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		qos := map[string]bag.QoS{}
		for _, ti := range r.Topics() {
			q, _, err := bag.ParseOfferedQoS(ti.OfferedQoSProfiles)
			if err != nil {
				t.Fatal(err)
			}
			qos[ti.Name] = q
		}
		r.Close()
		if q := qos["/instruction"]; q.Durability != bag.DurabilityTransientLocal || q.Reliability != bag.ReliabilityReliable {
			t.Errorf("%s: /instruction QoS %+v, want reliable + transient local", name, q)
		}
		if q := qos["/static_image"]; q.Reliability != bag.ReliabilityBestEffort || q.Depth != 5 {
			t.Errorf("%s: /static_image QoS %+v, want best effort, depth 5 as recorded", name, q)
		}
		if _, ok := qos[ActionTopic]; !ok {
			t.Errorf("%s: no %s", name, ActionTopic)
		}
		// An existing output is never overwritten.
		node, p := newNode(t, nil)
		if _, err := Run(Config{Bag: bagDir, Params: p, OutBag: out}, node, nil); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("%s: replay over an existing output: %v", name, err)
		}
	}
}

// At control.rate_hz, an instruction logged an hour before the images
// costs no hour of ticks, and gives the same actions.
func TestReplayAtRateAcrossLogTimeGap(t *testing.T) {
	g := loadGolden(t)
	rate := map[string]control.Value{control.ParamRateHz: control.Double(10)}
	want := replayBag(t, Config{Bag: writeBag(t, g, bagSpec{startNanos: int64(2 * time.Hour)})}, rate)
	gap := writeBag(t, g, bagSpec{firstInstructionEarlier: int64(time.Hour), startNanos: int64(2 * time.Hour)})
	got := replayBag(t, Config{Bag: gap}, rate)
	if got.Steps != len(g.Steps) || got.ActionsSHA256() != want.ActionsSHA256() {
		t.Fatalf("with the gap: %d steps, sha %s; without: %d, %s", got.Steps, got.ActionsSHA256(), want.Steps, want.ActionsSHA256())
	}
	// An hour at 10 Hz is 36,000 ticks; only those after a message run.
	if got.Ticks > 4*got.Messages {
		t.Fatalf("%d ticks for %d messages: the replay walked the gap", got.Ticks, got.Messages)
	}

	// Near the end of int64 nanoseconds the tick clock stops instead of
	// wrapping around.
	end := writeBag(t, g, bagSpec{startNanos: math.MaxInt64 - int64(len(g.Steps))*1e8 - 1e6})
	node, p := newNode(t, map[string]control.Value{control.ParamRateHz: control.Double(1000), control.ParamMaxImageAgeMs: control.Double(0)})
	done := make(chan *Report, 1)
	go func() {
		rep, err := Run(Config{Bag: end, Params: p}, node, nil)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	select {
	case rep := <-done:
		if rep == nil || rep.Steps != len(g.Steps) {
			t.Fatalf("near the end of time: want %d steps\n%v", len(g.Steps), rep)
		}
	case <-time.After(time.Minute):
		t.Fatal("replay near the end of int64 time did not finish in a minute")
	}
}

// Jumping over idle ticks changes no action, and no count, against
// running every tick, on a bag with gaps and stale images.
func TestReplayTickJumpMatchesEveryTick(t *testing.T) {
	g := loadGolden(t)
	bagDir := writeBag(t, g, bagSpec{repeat: 2, firstInstructionEarlier: int64(3 * time.Second), startNanos: int64(10 * time.Second)})
	// 7 Hz against 10 Hz images, and a 50 ms age limit: some frames are
	// stepped, some replaced before a tick, some stale.
	changes := map[string]control.Value{control.ParamRateHz: control.Double(7), control.ParamMaxImageAgeMs: control.Double(50)}
	jumped := replayBag(t, Config{Bag: bagDir}, changes)
	walkEveryTick = true
	defer func() { walkEveryTick = false }()
	walked := replayBag(t, Config{Bag: bagDir}, changes)
	if jumped.ActionsSHA256() != walked.ActionsSHA256() || jumped.Steps != walked.Steps || !equalCounts(jumped.NotRun, walked.NotRun) {
		t.Fatalf("jumped: %d steps, %v; every tick: %d steps, %v", jumped.Steps, jumped.NotRun, walked.Steps, walked.NotRun)
	}
	if jumped.Steps == 0 || jumped.NotRun[control.Stale.String()] == 0 || jumped.NotRun[control.Superseded.String()] == 0 || walked.Ticks <= jumped.Ticks {
		t.Fatalf("the bag does not exercise the cases: %d steps, not run %v, ticks %d jumped vs %d", jumped.Steps, jumped.NotRun, jumped.Ticks, walked.Ticks)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Bag opens its own node and gives what Run gives through one.
func TestBagOpensItsOwnNode(t *testing.T) {
	g := loadGolden(t)
	bagDir := writeGoldenBag(t, g, 1, false)
	want := replayBag(t, Config{Bag: bagDir}, nil)
	_, p := newNode(t, nil)
	env := control.ProcessEnvironment()
	env.SearchDirs = append(env.SearchDirs, root())
	got, err := Bag(Config{Bag: bagDir, Params: p}, env)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps != len(g.Steps) || got.ActionsSHA256() != want.ActionsSHA256() || got.Check() != nil {
		t.Fatalf("Bag: %d steps, sha %s, check %v; Run: sha %s", got.Steps, got.ActionsSHA256(), got.Check(), want.ActionsSHA256())
	}
	if _, err := Bag(Config{Bag: filepath.Join(t.TempDir(), "none"), Params: p}, env); err == nil {
		t.Fatal("Bag of a missing bag gave no error")
	}
}

// An input recorded without QoS is written with the node's QoS where it
// matters (the latched instruction); QoS text that does not parse is
// reported, not fatal.
func TestInputQoSFallbacks(t *testing.T) {
	rep := &Report{}
	if q := inputQoS(bag.TopicInfo{Name: "/instruction"}, DefaultTopics, rep); q.Durability != bag.DurabilityTransientLocal || q.Reliability != bag.ReliabilityReliable {
		t.Errorf("instruction without recorded QoS: %+v, want reliable + transient local", q)
	}
	if q := inputQoS(bag.TopicInfo{Name: "/static_image"}, DefaultTopics, rep); q != (bag.QoS{}) {
		t.Errorf("image without recorded QoS: %+v, want the default", q)
	}
	if len(rep.Problems) != 0 {
		t.Fatalf("problems %q", rep.Problems)
	}
	inputQoS(bag.TopicInfo{Name: "/static_image", OfferedQoSProfiles: "- reliability: sometimes"}, DefaultTopics, rep)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "/static_image: recorded QoS not understood") {
		t.Fatalf("problems %q", rep.Problems)
	}
}
