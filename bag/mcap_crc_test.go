package bag

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/msgs"
	"github.com/foxglove/mcap/go/mcap"
)

// chunkIndexes returns the chunk index of an MCAP file, which must have one.
func chunkIndexes(t *testing.T, path string) []*mcap.ChunkIndex {
	t.Helper()
	info, err := inspectMCAP(t, path).Info()
	if err != nil || len(info.ChunkIndexes) == 0 {
		t.Fatalf("no chunk index: %v", err)
	}
	return info.ChunkIndexes
}

// readUntilError reads every message of a bag and returns the first error
// other than io.EOF, and how many messages came before it.
func readUntilError(path string) (int, error) {
	r, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var m Message
	for n := 0; ; n++ {
		if err := r.Next(&m); err != nil {
			if err.Error() == "EOF" {
				return n, nil
			}
			return n, err
		}
	}
}

// A byte flipped inside a chunk's records is found by its CRC when the
// chunk is read, whatever the compression, with an error naming the chunk
// and its offset; the chunks before it read normally.
func TestCorruptChunkFailsItsCRC(t *testing.T) {
	for _, comp := range []Compression{CompressionNone, CompressionZstd, CompressionLZ4} {
		t.Run(fmt.Sprint(comp), func(t *testing.T) {
			dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{ChunkBytes: 200, Compression: comp}, sampleMessages(t))
			path := mcapFile(t, dir)
			if n, err := readUntilError(path); err != nil || n != 11 {
				t.Fatalf("intact bag: %d messages, %v", n, err)
			}
			chunks := chunkIndexes(t, path)
			if len(chunks) < 2 {
				t.Fatalf("%d chunks, want two or more", len(chunks))
			}
			ci := chunks[1]
			data := mustRead(t, path)
			// The last bytes of a chunk record are its (compressed) records;
			// 20 bytes from the end is before any end mark or frame checksum.
			data[ci.ChunkStartOffset+ci.ChunkLength-20] ^= 0x40
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readUntilError(path)
			want := fmt.Sprintf("chunk 1 at offset %d is corrupt", ci.ChunkStartOffset)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("corrupt chunk: %v, want an error with %q and the file", err, want)
			}
			if comp == CompressionNone && !strings.Contains(err.Error(), "CRC") {
				t.Fatalf("an uncompressed chunk's damage is a CRC mismatch: %v", err)
			}
		})
	}
}

// A chunked file without a chunk index is read in file order; its chunks'
// CRCs are checked too.
func TestCorruptChunkFailsItsCRCWithoutIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "noindex.mcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mcap.NewWriter(f, &mcap.WriterOptions{Chunked: true, ChunkSize: 64, IncludeCRC: true, SkipChunkIndex: true, SkipMessageIndexing: true})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := msgs.Definition(msgs.StringType)
	data := (&msgs.String{Data: "the same text in every message"}).MarshalCDR(nil)
	errs := []error{
		w.WriteHeader(&mcap.Header{Profile: "ros2"}),
		w.WriteSchema(&mcap.Schema{ID: 1, Name: msgs.StringType, Encoding: "ros2msg", Data: []byte(def)}),
		w.WriteChannel(&mcap.Channel{ID: 1, SchemaID: 1, Topic: "/chatter", MessageEncoding: "cdr"}),
	}
	for i := range 6 {
		errs = append(errs, w.WriteMessage(&mcap.Message{ChannelID: 1, LogTime: uint64(i), Data: data}))
	}
	errs = append(errs, w.Close(), f.Close())
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := readUntilError(path); err != nil || n != 6 {
		t.Fatalf("intact file: %d messages, %v", n, err)
	}
	raw := mustRead(t, path)
	at := strings.LastIndex(string(raw), "the same text") // in the last chunk
	raw[at] ^= 0x40
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readUntilError(path); err == nil || !strings.Contains(err.Error(), "CRC") || !strings.Contains(err.Error(), "byte offset") {
		t.Fatalf("corrupt chunk: %v, want a CRC error with its offset", err)
	}
}
