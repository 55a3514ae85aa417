package bag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/deervla/deer_vla/msgs"
)

func TestTopicFilter(t *testing.T) {
	ms := sampleMessages(t)
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, ms)
	var want []written
	for _, m := range byLogTime(ms) {
		if m.topic == "/action" || m.topic == "/instruction" {
			want = append(want, m)
		}
	}
	got, topics := readAll(t, dir, WithTopics("/action", "/instruction", "/not/in/bag"))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("filtered read\n%v\nwant\n%v", got, want)
	}
	if len(topics) != 3 {
		t.Errorf("Topics() with a filter lists %d topics, want all 3", len(topics))
	}
	if _, err := Open(dir, WithTopics("")); err == nil || err.Error() != "bag: WithTopics: empty topic name" {
		t.Errorf("WithTopics(\"\") err = %v", err)
	}
}

// TestSplitBagMerged reads a folder whose metadata.yaml lists two MCAP
// files, as a split recording has, and checks that Next merges them in
// log-time order.
func TestSplitBagMerged(t *testing.T) {
	ms := sampleMessages(t)
	var even, odd []written
	for i, m := range ms {
		if i%2 == 0 {
			even = append(even, m)
		} else {
			odd = append(odd, m)
		}
	}
	a := writeBag(t, filepath.Join(t.TempDir(), "a"), WriterOptions{}, even)
	b := writeBag(t, filepath.Join(t.TempDir(), "b"), WriterOptions{}, odd)
	dir := t.TempDir()
	copyFile(t, mcapFile(t, a), filepath.Join(dir, "split_0.mcap"))
	copyFile(t, mcapFile(t, b), filepath.Join(dir, "split_1.mcap"))
	meta := `rosbag2_bagfile_information:
  version: 5
  storage_identifier: mcap
  relative_file_paths:
    - split_0.mcap
    - split/split_1.mcap
  topics_with_message_count:
    - topic_metadata:
        name: /extra
        type: std_msgs/msg/String
        serialization_format: cdr
        offered_qos_profiles:
          - {reliability: 1, durability: 2}
      message_count: 0
`
	if err := os.WriteFile(filepath.Join(dir, MetadataFile), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	got, topics := readAll(t, dir)
	if want := byLogTime(ms); !reflect.DeepEqual(got, want) {
		t.Fatalf("merged read\n%v\nwant\n%v", got, want)
	}
	counts := map[string]int64{}
	for _, tp := range topics {
		counts[tp.Name] = tp.MessageCount
	}
	want := map[string]int64{"/instruction": 1, "/camera/image_raw": 5, "/action": 5, "/extra": 0}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("topic counts %v, want %v", counts, want)
	}
	if last := topics[len(topics)-1]; last.OfferedQoSProfiles != "- {reliability: 1, durability: 2}" {
		t.Errorf("inline QoS list read as %q", last.OfferedQoSProfiles)
	}
}

// TestFolderWithoutMetadata reads the storage files of a folder that has
// no metadata.yaml.
func TestFolderWithoutMetadata(t *testing.T) {
	ms := sampleMessages(t)
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, ms)
	if err := os.Remove(filepath.Join(dir, MetadataFile)); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, dir)
	if !reflect.DeepEqual(got, byLogTime(ms)) {
		t.Fatal("folder without metadata.yaml read differently")
	}
}

// TestUnindexedMCAP reads an MCAP file without chunks or index, as the
// rosbag2 "fastwrite" profile writes, in file order.
func TestUnindexedMCAP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fast.mcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mcap.NewWriter(f, &mcap.WriterOptions{Chunked: false, SkipStatistics: true, SkipSummaryOffsets: true})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := msgs.Definition(msgs.StringType)
	data := (&msgs.String{Data: "hi"}).MarshalCDR(nil)
	for _, err := range []error{
		w.WriteHeader(&mcap.Header{Profile: "ros2"}),
		w.WriteSchema(&mcap.Schema{ID: 1, Name: msgs.StringType, Encoding: "ros2msg", Data: []byte(def)}),
		w.WriteChannel(&mcap.Channel{ID: 1, SchemaID: 1, Topic: "/chatter", MessageEncoding: "cdr"}),
		w.WriteMessage(&mcap.Message{ChannelID: 1, LogTime: 5, Data: data}),
		w.WriteMessage(&mcap.Message{ChannelID: 1, LogTime: 7, Data: data}),
		w.Close(),
		f.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, topics := readAll(t, path)
	want := []written{
		{topic: "/chatter", typ: msgs.StringType, nanos: 5, data: data},
		{topic: "/chatter", typ: msgs.StringType, nanos: 7, data: data},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	if len(topics) != 1 || topics[0].MessageCount != -1 {
		t.Errorf("topics %+v, want /chatter with an unknown count", topics)
	}
}

func TestOpenErrors(t *testing.T) {
	good := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	goodMCAP, err := os.ReadFile(mcapFile(t, good))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated.mcap", goodMCAP[:len(goodMCAP)/2])
	garbage := write("garbage.mcap", []byte("this is not an MCAP file at all"))
	unknown := write("notes.txt", []byte("hello"))
	missingDir := filepath.Dir(write("missing/metadata.yaml", []byte(
		"rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: mcap\n  relative_file_paths:\n    - missing_0.mcap\n")))
	compressedDir := filepath.Dir(write("compressed/metadata.yaml", []byte(
		"rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: sqlite3\n  compression_format: zstd\n"+
			"  compression_mode: FILE\n  relative_file_paths:\n    - c_0.db3.zstd\n")))
	brokenYAML := filepath.Dir(write("broken/metadata.yaml", []byte("rosbag2_bagfile_information: [\n")))
	notRosbag := filepath.Dir(write("other/metadata.yaml", []byte("name: something else\n")))
	emptyDir := filepath.Join(tmp, "empty")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	truncatedDir := filepath.Dir(write("trunc_bag/metadata.yaml", mustRead(t, filepath.Join(good, MetadataFile))))
	write("trunc_bag/rec_0.mcap", goodMCAP[:len(goodMCAP)-40])

	tests := []struct {
		name string
		path string
		// wantErr parts must all appear in the error.
		wantErr []string
	}{
		{"no such path", filepath.Join(tmp, "nope"), []string{"bag: ", "nope", "no such file"}},
		{"truncated mcap", truncated, []string{"bag: " + truncated + ": cannot read the MCAP summary, the file is truncated or corrupt"}},
		{"garbage with .mcap extension", garbage, []string{"bag: " + garbage + ": not an MCAP file"}},
		{"unknown file type", unknown, []string{"bag: " + unknown + ": unknown storage: not an MCAP or sqlite3 file"}},
		{"metadata lists a missing file", missingDir, []string{
			"bag: " + filepath.Join(missingDir, MetadataFile) + `: storage file "missing_0.mcap" listed in relative_file_paths`,
			"no such file"}},
		{"compressed bag", compressedDir, []string{`compressed bags are not supported (compression_mode "FILE", compression_format "zstd")`}},
		{"broken yaml", brokenYAML, []string{"bag: " + filepath.Join(brokenYAML, MetadataFile) + ": yaml:"}},
		{"yaml that is not rosbag2 metadata", notRosbag, []string{"no rosbag2_bagfile_information.version"}},
		{"empty folder", emptyDir, []string{"bag: " + emptyDir + ": no metadata.yaml and no .mcap or .db3 files"}},
		{"folder with a truncated mcap", truncatedDir, []string{
			"bag: " + filepath.Join(truncatedDir, "rec_0.mcap") + ": cannot read the MCAP summary"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(tc.path)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			for _, part := range tc.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Fatalf("err = %v\nwant it to contain %q", err, part)
				}
			}
		})
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorruptMessageRecord damages the length of a message record inside
// a chunk: Next must fail with an error that names the file and the last
// good message, not panic.
func TestCorruptMessageRecord(t *testing.T) {
	ms := sampleMessages(t)
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, ms)
	path := mcapFile(t, dir)
	data := mustRead(t, path)
	// The third message in log-time order is the first image; find its
	// payload and overwrite the record length 8+8+4+2 bytes before it.
	target := byLogTime(ms)[2]
	at := bytes.Index(data, target.data)
	if at < 0 {
		t.Fatal("payload not found in the file")
	}
	lenAt := at - (2 + 4 + 8 + 8) - 8
	if data[lenAt-1] != byte(mcap.OpMessage) {
		t.Fatalf("no message opcode at %d", lenAt-1)
	}
	binary.LittleEndian.PutUint64(data[lenAt:], 1<<40)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var m Message
	var nerr error
	n := 0
	for nerr = r.Next(&m); nerr == nil; nerr = r.Next(&m) {
		n++
	}
	if errors.Is(nerr, io.EOF) {
		t.Fatalf("read %d messages and io.EOF from a corrupt chunk", n)
	}
	if !strings.Contains(nerr.Error(), "bag: "+path+": reading the first message") {
		t.Fatalf("err = %v, want it to name %s", nerr, path)
	}
	if again := r.Next(&m); again != nerr {
		t.Errorf("second Next after an error = %v, want the same error", again)
	}
}

// TestCorruptChunkIndex makes a chunk index point past the end of the file.
func TestCorruptChunkIndex(t *testing.T) {
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	path := mcapFile(t, dir)
	ci := chunkIndexes(t, path)[0]
	data := mustRead(t, path)
	// Find the chunk index record by its start offset and length fields.
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:8], ci.ChunkStartOffset)
	binary.LittleEndian.PutUint64(key[8:], ci.ChunkLength)
	at := bytes.LastIndex(data, key[:])
	if at < 0 {
		t.Fatal("chunk index record not found")
	}
	binary.LittleEndian.PutUint64(data[at+8:], 1<<50)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "bag: "+path+": chunk index 0: chunk at offset") {
		t.Fatalf("err = %v", err)
	}
}

// TestReaderClose checks Close is idempotent and Next fails after it.
func TestReaderClose(t *testing.T) {
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	var m Message
	if err := r.Next(&m); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close = %v, want ErrClosed", err)
	}
}

// FuzzReadMCAP opens arbitrary bytes as an MCAP file and reads all
// messages: errors are fine, panics are not.
func FuzzReadMCAP(f *testing.F) {
	dir := writeBag(f, filepath.Join(f.TempDir(), "rec"), WriterOptions{ChunkBytes: 200}, sampleMessages(f))
	good := mustRead(f, mcapFile(f, dir))
	f.Add(good)
	f.Add(good[:len(good)-30])
	f.Add([]byte("\x89MCAP0\r\n"))
	path := filepath.Join(f.TempDir(), "fuzz.mcap")
	f.Fuzz(func(t *testing.T, data []byte) { openAndRead(t, path, data) })
}
