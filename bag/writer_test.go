package bag

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/msgs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// byLogTime returns ms stably sorted by log time, the order Next yields.
func byLogTime(ms []written) []written {
	out := append([]written(nil), ms...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].nanos < out[j].nanos })
	return out
}

func TestRoundTrip(t *testing.T) {
	ms := sampleMessages(t)
	want := byLogTime(ms)
	tests := []struct {
		name string
		opts WriterOptions
	}{
		{"uncompressed", WriterOptions{}},
		{"zstd, small chunks", WriterOptions{Compression: CompressionZstd, ChunkBytes: 100}},
		{"lz4", WriterOptions{Compression: CompressionLZ4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), tc.opts, ms)
			for _, path := range []string{dir, mcapFile(t, dir)} {
				got, topics := readAll(t, path)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("Open(%s) read\n%v\nwant\n%v", path, got, want)
				}
				wantTopics := []TopicInfo{
					{Name: "/instruction", Type: msgs.StringType, SerializationFormat: "cdr", MessageCount: 1,
						OfferedQoSProfiles: QoS{Durability: DurabilityTransientLocal, Depth: 1}.profilesYAML()},
					{Name: "/camera/image_raw", Type: msgs.ImageType, SerializationFormat: "cdr", MessageCount: 5,
						OfferedQoSProfiles: QoS{}.profilesYAML()},
					{Name: "/action", Type: msgs.ActionType, SerializationFormat: "cdr", MessageCount: 5,
						OfferedQoSProfiles: QoS{}.profilesYAML()},
				}
				if !reflect.DeepEqual(topics, wantTopics) {
					t.Fatalf("Topics() of %s =\n%+v\nwant\n%+v", path, topics, wantTopics)
				}
			}
		})
	}
}

// TestRoundTripDecodes checks the messages read back decode to the values
// written.
func TestRoundTripDecodes(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	act := &msgs.Action{Header: msgs.Header{Stamp: msgs.Time{Sec: 5, Nanosec: 6}, FrameID: "cam"},
		PoseDelta: [6]float32{1, 2, 3, 4, 5, 6}, Gripper: -1, ExitIndex: 2, GFLOPs: 7.25, LatencyMs: 9}
	stats := &msgs.StepStats{ExitIndex: 2, MaxExit: 4, Distances: []float32{0.1, 0.05}, Thresholds: []float32{0.2, 0.1, 0.05}}
	for _, err := range []error{
		w.AddTopic("action", msgs.ActionType, QoS{}),
		w.AddTopic("step_stats", msgs.StepStatsType, QoS{Reliability: ReliabilityBestEffort}),
		w.WriteMessage("action", 10, act),
		w.WriteMessage("step_stats", 11, stats),
		w.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := readAll(t, dir)
	if len(got) != 2 {
		t.Fatalf("read %d messages, want 2", len(got))
	}
	var gotAct msgs.Action
	var gotStats msgs.StepStats
	if err := gotAct.UnmarshalCDR(got[0].data); err != nil {
		t.Fatal(err)
	}
	if err := gotStats.UnmarshalCDR(got[1].data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&gotAct, act) || !reflect.DeepEqual(&gotStats, stats) {
		t.Fatalf("decoded %+v, %+v\nwant %+v, %+v", gotAct, gotStats, act, stats)
	}
}

// TestMCAPContents checks what Foxglove and rosbag2 look at in the MCAP
// file: the ros2 profile, ros2msg schemas, cdr channels with their QoS,
// and the rosbag2 metadata record.
func TestMCAPContents(t *testing.T) {
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	r := inspectMCAP(t, mcapFile(t, dir))
	if p := r.Header().Profile; p != "ros2" {
		t.Errorf("header profile = %q, want ros2", p)
	}
	info, err := r.Info()
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Schemas) != 3 || len(info.Channels) != 3 {
		t.Fatalf("%d schemas and %d channels, want 3 and 3", len(info.Schemas), len(info.Channels))
	}
	for _, ch := range info.Channels {
		sc := info.Schemas[ch.SchemaID]
		def, _ := msgs.Definition(sc.Name)
		if sc.Encoding != "ros2msg" || string(sc.Data) != def {
			t.Errorf("schema %s: encoding %q, data %q; want ros2msg and msgs.Definition", sc.Name, sc.Encoding, sc.Data)
		}
		if ch.MessageEncoding != "cdr" {
			t.Errorf("channel %s: message encoding %q, want cdr", ch.Topic, ch.MessageEncoding)
		}
		if !strings.HasPrefix(ch.Metadata["offered_qos_profiles"], "- history: ") {
			t.Errorf("channel %s: offered_qos_profiles = %q", ch.Topic, ch.Metadata["offered_qos_profiles"])
		}
	}
	if len(info.MetadataIndexes) != 1 {
		t.Fatalf("%d metadata records, want 1", len(info.MetadataIndexes))
	}
	md, err := r.GetMetadata(info.MetadataIndexes[0].Offset)
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "rosbag2" || md.Metadata["ROS_DISTRO"] != "humble" {
		t.Errorf("metadata record = %q %v, want rosbag2 {ROS_DISTRO: humble}", md.Name, md.Metadata)
	}
}

// TestMetadataGolden compares metadata.yaml with testdata/metadata.golden,
// the layout Humble's rosbag2 writes. Run with -update to rewrite it.
func TestMetadataGolden(t *testing.T) {
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	got, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "metadata.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("metadata.yaml differs from %s (run go test -update and review the diff):\n%s", golden, got)
	}
	m, err := readMetadata(filepath.Join(dir, MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.Version != 5 || m.Info.StorageIdentifier != "mcap" || m.Info.MessageCount != 11 ||
		!reflect.DeepEqual(m.Info.RelativeFilePaths, []string{"rec_0.mcap"}) || len(m.Info.Topics) != 3 {
		t.Fatalf("metadata.yaml parsed as %+v", m.Info)
	}
}

func TestEmptyBag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "empty")
	w, err := Create(dir, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, topics := readAll(t, dir)
	if len(got) != 0 || len(topics) != 0 {
		t.Fatalf("empty bag read as %v, %v", got, topics)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, MetadataFile))
	if !bytes.Contains(meta, []byte("topics_with_message_count: []\n")) {
		t.Errorf("metadata.yaml of an empty bag:\n%s", meta)
	}
}

// TestDeterministic writes the same messages twice and compares hashes of
// every file of the two bags.
func TestDeterministic(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionZstd, CompressionLZ4} {
		ms := sampleMessages(t)
		a := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{Compression: c}, ms)
		b := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{Compression: c}, ms)
		for _, name := range []string{"rec_0.mcap", MetadataFile} {
			ha, hb := hashFile(t, filepath.Join(a, name)), hashFile(t, filepath.Join(b, name))
			if ha != hb {
				t.Errorf("compression %d: %s differs between two identical writes", c, name)
			}
		}
	}
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func TestWriterErrors(t *testing.T) {
	newWriter := func(t *testing.T) *Writer {
		w, err := Create(t.TempDir(), WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		if err := w.AddTopic("/chatter", msgs.StringType, QoS{}); err != nil {
			t.Fatal(err)
		}
		return w
	}
	tests := []struct {
		name    string
		do      func(w *Writer) error
		wantErr string
	}{
		{"unknown topic", func(w *Writer) error { return w.Write("/nope", 1, nil) },
			`bag: write: topic "/nope" was not added with AddTopic`},
		{"negative time", func(w *Writer) error { return w.Write("/chatter", -5, nil) },
			`bag: write: topic "/chatter": negative log time -5`},
		{"topic added twice", func(w *Writer) error { return w.AddTopic("/chatter", msgs.ImageType, QoS{}) },
			`bag: AddTopic "/chatter": topic already added with type "std_msgs/msg/String"`},
		{"short type name", func(w *Writer) error { return w.AddTopic("/x", "std_msgs/String", QoS{}) },
			`bag: AddTopic "/x": type "std_msgs/String" is not of the form package/msg/Type`},
		{"empty topic", func(w *Writer) error { return w.AddTopic("", msgs.StringType, QoS{}) },
			`bag: AddTopic: empty topic name`},
		{"bad QoS", func(w *Writer) error { return w.AddTopic("/x", msgs.StringType, QoS{Reliability: 7}) },
			`bag: AddTopic "/x": QoS reliability 7 is not 1 (reliable) or 2 (best effort)`},
		{"message of another type", func(w *Writer) error { return w.WriteMessage("/chatter", 1, &msgs.Image{}) },
			`bag: write: topic "/chatter" has type "std_msgs/msg/String", message is "sensor_msgs/msg/Image"`},
		{"write after close", func(w *Writer) error { w.Close(); return w.Write("/chatter", 1, nil) },
			`bag: closed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(newWriter(t))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	tests := []struct {
		name    string
		dir     string
		opts    WriterOptions
		wantErr string
	}{
		{"folder not empty", full, WriterOptions{}, "bag: create " + full + ": the folder exists and is not empty"},
		{"base name with a slash", fresh, WriterOptions{BaseName: "a/b"},
			"bag: create " + fresh + `: 'BaseName' "a/b" is not a file name`},
		{"unknown compression", fresh, WriterOptions{Compression: 9},
			"bag: create " + fresh + ": 'Compression' 9 is not a known compression"},
		{"chunk too large", fresh, WriterOptions{ChunkBytes: MaxChunkBytes + 1},
			"bag: create " + fresh + ": 'ChunkBytes' 1073741825 is not in 1..1073741824"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Create(tc.dir, tc.opts)
			if err == nil {
				w.Close()
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
			}
		})
	}
}
