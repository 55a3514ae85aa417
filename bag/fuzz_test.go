package bag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A message over the size limit is refused, in sqlite3 before its blob is
// read, with the file, the topic and the limit in the error.
func TestMessageSizeLimit(t *testing.T) {
	defer func(old int64) { maxMessageBytes = old }(maxMessageBytes)
	maxMessageBytes = 50 // the sample's images are 59 bytes, its instruction 40
	tmp := t.TempDir()
	db3 := filepath.Join(tmp, "rec.db3")
	createDB3(t, db3, sampleTopics, sampleMessages(t))
	mcapDir := writeBag(t, filepath.Join(tmp, "rec"), WriterOptions{}, sampleMessages(t))
	for _, path := range []string{db3, mcapFile(t, mcapDir)} {
		n, err := readUntilError(path)
		if n != 1 || err == nil || !strings.Contains(err.Error(), `"/camera/image_raw"`) || !strings.Contains(err.Error(), "50-byte limit") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %d messages, then %v", path, n, err)
		}
	}
}

// A metadata.yaml over the size limit is refused before it is parsed.
func TestMetadataSizeLimit(t *testing.T) {
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	meta := filepath.Join(dir, MetadataFile)
	data := mustRead(t, meta)
	data = append(data, "\n# "+strings.Repeat("x", MaxMetadataBytes)+"\n"...)
	if err := os.WriteFile(meta, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Open = %v, want the size limit", err)
	}
}

// FuzzReadMetadata opens a bag folder whose metadata.yaml is any text,
// beside a valid MCAP file, and reads it all: errors are fine, panics are
// not.
func FuzzReadMetadata(f *testing.F) {
	dir := writeBag(f, filepath.Join(f.TempDir(), "rec"), WriterOptions{}, sampleMessages(f))
	f.Add(mustRead(f, filepath.Join(dir, MetadataFile)))
	f.Add([]byte("rosbag2_bagfile_information:\n  version: 5\n  relative_file_paths: [../../../etc/passwd]\n"))
	f.Add([]byte("rosbag2_bagfile_information: {version: 1, relative_file_paths: [rec_0.mcap], topics_with_message_count: [{topic_metadata: {name: /a, offered_qos_profiles: [1, [2]]}, message_count: -5}]}\n"))
	meta := filepath.Join(dir, MetadataFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(meta, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(dir)
		if err != nil {
			return
		}
		defer r.Close()
		r.Topics()
		var m Message
		for i := 0; i < 100 && r.Next(&m) == nil; i++ {
		}
	})
}

// FuzzReadSQLite opens any bytes as a rosbag2 sqlite3 file and reads all
// its messages: errors are fine, panics are not.
func FuzzReadSQLite(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "seed.db3")
	createDB3(f, seed, sampleTopics, sampleMessages(f))
	f.Add(mustRead(f, seed))
	path := filepath.Join(f.TempDir(), "fuzz.db3")
	f.Fuzz(func(t *testing.T, data []byte) { openAndRead(t, path, data) })
}

// openAndRead writes data to path, opens it as a bag and reads up to 10000
// messages: for fuzz targets, where errors are fine and panics are not.
func openAndRead(t *testing.T, path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		return
	}
	defer r.Close()
	r.Topics()
	var m Message
	for i := 0; i < 10000 && r.Next(&m) == nil; i++ {
	}
}
