package replay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/nodes/control"
)

// goldenFile is the tiny test model's golden steps and reference runs.
type goldenFile struct {
	Steps []struct {
		Episode     int    `json:"episode"`
		Instruction string `json:"instruction"`
		Static      struct {
			Width, Height int
			Encoding      string
			Data          []int
		} `json:"static"`
		Gripper struct {
			Width, Height int
			Encoding      string
			Data          []int
		} `json:"gripper"`
	} `json:"steps"`
	Runs []struct {
		Name       string    `json:"name"`
		Thresholds []float64 `json:"thresholds"`
		Results    []struct {
			Exit int       `json:"exit"`
			Pose []float32 `json:"pose"`
		} `json:"results"`
	} `json:"runs"`
}

func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

func loadGolden(t testing.TB) *goldenFile {
	data, err := os.ReadFile(filepath.Join(root(), "models", "tiny_test", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func bytesOf(v []int) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// writeGoldenBag writes the golden steps as a demonstration bag at 10 Hz:
// the instruction at each episode start, the static image, then the
// gripper image (so a step must wait for it), and as the "expert" the
// full-depth reference action. repeat plays the steps that many times (as
// new episodes); garbage adds a malformed static image after the first
// step.
func writeGoldenBag(t testing.TB, g *goldenFile, repeat int, garbage bool) string {
	return writeBag(t, g, bagSpec{repeat: repeat, garbage: garbage})
}

// bagSpec varies the golden bag.
type bagSpec struct {
	repeat  int
	garbage bool
	// topics names the topics written (zero: DefaultTopics); an empty name
	// leaves that input out.
	topics Topics
	// firstInstructionEarlier logs the first instruction this long before
	// the first images (stamps unchanged).
	firstInstructionEarlier int64
	// startNanos is the log time and stamp of the first step (0: 1 s;
	// stamps start at 1 s where int32 seconds cannot hold it).
	startNanos int64
	// encoding, if set, replaces the images' encoding (steps then fail).
	encoding string
}

func writeBag(t testing.TB, g *goldenFile, spec bagSpec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "golden_bag")
	w, err := bag.Create(dir, bag.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := spec.topics
	if names == (Topics{}) {
		names = DefaultTopics
	}
	topics := []struct {
		name, typ string
		qos       bag.QoS
	}{
		{names.Static, msgs.ImageType, bag.QoS{Reliability: bag.ReliabilityBestEffort, Depth: 5}},
		{names.Gripper, msgs.ImageType, bag.QoS{Reliability: bag.ReliabilityBestEffort, Depth: 5}},
		{names.Instruction, msgs.StringType, bag.QoS{Durability: bag.DurabilityTransientLocal, Depth: 1}},
		{names.Expert, msgs.ActionType, bag.QoS{}},
	}
	for _, tt := range topics {
		if tt.name == "" {
			continue
		}
		if err := w.AddTopic(tt.name, tt.typ, tt.qos); err != nil {
			t.Fatal(err)
		}
	}
	full := g.Runs[0].Results // full_depth
	start := spec.startNanos
	if start == 0 {
		start = 1e9
	}
	ns := start
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(topic string, nanos int64, m msgs.Message) {
		if topic != "" {
			must(w.WriteMessage(topic, nanos, m))
		}
	}
	for r := 0; r < max(spec.repeat, 1); r++ {
		for i, s := range g.Steps {
			stamp := msgs.TimeFromNanos(ns)
			if ns > 1<<62 { // beyond what a stamp's int32 seconds hold
				stamp = msgs.TimeFromNanos(ns - start + 1e9)
			}
			if i == 0 || g.Steps[i-1].Episode != s.Episode {
				at := ns
				if r == 0 && i == 0 {
					at -= spec.firstInstructionEarlier
				}
				write(names.Instruction, at, &msgs.String{Data: s.Instruction})
			}
			enc := s.Static.Encoding
			if spec.encoding != "" {
				enc = spec.encoding
			}
			write(names.Static, ns, &msgs.Image{Header: msgs.Header{Stamp: stamp, FrameID: "static_camera"},
				Width: uint32(s.Static.Width), Height: uint32(s.Static.Height), Encoding: enc, Step: uint32(3 * s.Static.Width), Data: bytesOf(s.Static.Data)})
			write(names.Gripper, ns, &msgs.Image{Header: msgs.Header{Stamp: stamp, FrameID: "gripper_camera"},
				Width: uint32(s.Gripper.Width), Height: uint32(s.Gripper.Height), Encoding: s.Gripper.Encoding, Step: uint32(3 * s.Gripper.Width), Data: bytesOf(s.Gripper.Data)})
			a := &msgs.Action{Header: msgs.Header{Stamp: stamp}, Gripper: 1}
			copy(a.PoseDelta[:], full[i].Pose)
			write(names.Expert, ns, a)
			if spec.garbage && r == 0 && i == 0 {
				must(w.Write(names.Static, ns+1, []byte{0, 1, 0, 0, 7}))
			}
			ns += 1e8
		}
	}
	must(w.Close())
	return dir
}

func newNode(t testing.TB, changes map[string]control.Value) (*control.Node, control.Params) {
	t.Helper()
	p, err := control.DefaultParams().With(map[string]control.Value{control.ParamModelPath: control.String(filepath.Join(root(), "models", "tiny_test"))}, true)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = p.With(changes, false); err != nil {
		t.Fatal(err)
	}
	env := control.ProcessEnvironment()
	env.SearchDirs = append(env.SearchDirs, root())
	eng, err := control.OpenEngine(p, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	n, err := control.NewNode(eng, p)
	if err != nil {
		t.Fatal(err)
	}
	return n, p
}

func thresholds(g *goldenFile, run string) control.Value {
	for _, r := range g.Runs {
		if r.Name == run {
			return control.Doubles(r.Thresholds)
		}
	}
	panic(run)
}

// Replaying the golden steps reproduces the reference exits, and the
// report counts what happened.
func TestReplayMatchesReference(t *testing.T) {
	g := loadGolden(t)
	bagDir := writeGoldenBag(t, g, 1, true)
	node, p := newNode(t, map[string]control.Value{control.ParamThresholds: thresholds(g, "mixed_rms"), control.ParamMetric: control.String("rms")})
	var exits []int
	out := filepath.Join(t.TempDir(), "out")
	rep, err := Run(Config{Bag: bagDir, Params: p, OutBag: out}, node, func(o *control.Output) { exits = append(exits, int(o.Action.ExitIndex)) })
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, r := range g.Runs {
		if r.Name == "mixed_rms" {
			for _, res := range r.Results {
				want = append(want, res.Exit)
			}
		}
	}
	if len(exits) != len(want) {
		t.Fatalf("%d actions, want %d\n%s", len(exits), len(want), rep.Text())
	}
	for i := range want {
		if exits[i] != want[i] {
			t.Fatalf("exits %v, want %v", exits, want)
		}
	}
	if rep.Malformed != 1 || !strings.Contains(rep.Problems[0], "/static_image") {
		t.Fatalf("malformed %d, problems %v", rep.Malformed, rep.Problems)
	}
	if rep.Compared() != len(want) || rep.PoseRMS() <= 0 {
		t.Fatalf("compared %d, pose RMS %v", rep.Compared(), rep.PoseRMS())
	}
	text := rep.Text()
	for _, s := range []string{"actions per exit", "saved", "95th percentile", "against the expert", "1 could not be decoded"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}
	// The output bag holds the inputs and one action and record per step.
	r, err := bag.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	counts := map[string]int64{}
	for _, ti := range r.Topics() {
		counts[ti.Name] = ti.MessageCount
	}
	if counts[ActionTopic] != int64(len(want)) || counts[StatsTopic] != int64(len(want)) || counts["/static_image"] != int64(len(want))+1 {
		t.Fatalf("output topics %v", counts)
	}
}

// At full depth the replay's actions are the reference's, so the error
// against those "expert" actions is ~0.
func TestReplayFullDepthErrorIsZero(t *testing.T) {
	g := loadGolden(t)
	node, p := newNode(t, nil)
	rep, err := Run(Config{Bag: writeGoldenBag(t, g, 1, false), Params: p}, node, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PoseRMS() > 1e-5 || rep.ExitCounts[4] != len(g.Steps) {
		t.Fatalf("pose RMS %v, exits %v", rep.PoseRMS(), rep.ExitCounts[:5])
	}
}

// The same bag, model and parameters give the same actions.
func TestReplayIsDeterministic(t *testing.T) {
	g := loadGolden(t)
	bagDir := writeGoldenBag(t, g, 2, false)
	var hashes []string
	for range 2 {
		node, p := newNode(t, map[string]control.Value{control.ParamThresholds: thresholds(g, "mixed_cosine"), control.ParamMetric: control.String("cosine")})
		rep, err := Run(Config{Bag: bagDir, Params: p}, node, nil)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, rep.ActionsSHA256())
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("two replays differ: %v", hashes)
	}
}

func TestReplayAtFixedRate(t *testing.T) {
	g := loadGolden(t)
	// Images come at 10 Hz; a 5 Hz loop steps on every other one.
	node, p := newNode(t, map[string]control.Value{control.ParamRateHz: control.Double(5)})
	rep, err := Run(Config{Bag: writeGoldenBag(t, g, 1, false), Params: p}, node, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Steps != len(g.Steps)/2 {
		t.Fatalf("%d steps at 5 Hz over %d images at 10 Hz\n%s", rep.Steps, len(g.Steps), rep.Text())
	}
}
