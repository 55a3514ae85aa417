package bag

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

const (
	streamMessages = 10000
	streamBytes    = 20 << 10 // 20 KiB a message, about 200 MB in all
)

// payload fills buf with message i: its index, then a pattern.
func payload(buf []byte, i int) []byte {
	buf = buf[:streamBytes]
	for j := range buf {
		buf[j] = byte(i + j)
	}
	binary.LittleEndian.PutUint64(buf, uint64(i))
	return buf
}

// A reader that loaded the bag would need at least its size in heap; one
// that streams needs a chunk or a row, plus garbage the collector has not
// reclaimed yet (a few MB). The tests allow a quarter of the bag size.

// readStreaming reads every message of the bag at path and returns the
// highest heap in use seen while reading, above the heap in use before
// Open. It checks every message's index, time order and content.
func readStreaming(t *testing.T, path string, n int) uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var m Message
	var peak uint64
	want := make([]byte, streamBytes)
	count := 0
	for {
		err := r.Next(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.LogTimeNanos != t0+int64(count)*1e6 || string(m.Data) != string(payload(want, count)) {
			t.Fatalf("message %d: time %d, index %d", count, m.LogTimeNanos, binary.LittleEndian.Uint64(m.Data))
		}
		count++
		if count%500 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
		}
	}
	if count != n {
		t.Fatalf("read %d messages, want %d", count, n)
	}
	return peak
}

// TestStreamingMCAP writes a 10,000-message, 200 MB bag and checks that
// reading it keeps the heap far below the bag size.
func TestStreamingMCAP(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 200 MB bag")
	}
	dir := filepath.Join(t.TempDir(), "big")
	w, err := Create(dir, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTopic("/camera/image_raw", "sensor_msgs/msg/Image", QoS{}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, streamBytes)
	for i := range streamMessages {
		if err := w.Write("/camera/image_raw", t0+int64(i)*1e6, payload(buf, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(mcapFile(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	size := uint64(st.Size())

	peak := readStreaming(t, dir, streamMessages)
	t.Logf("bag %d MB, peak heap in use while reading %.1f MB", size>>20, float64(peak)/(1<<20))
	if peak > size/4 {
		t.Fatalf("reading a %d-byte bag used %d bytes of heap: it is not streaming", size, peak)
	}
}

// TestStreamingSQLite does the same for a .db3 file.
func TestStreamingSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 200 MB database")
	}
	const n = streamMessages
	path := filepath.Join(t.TempDir(), "big_0.db3")
	buf := make([]byte, streamBytes)
	topics := []TopicInfo{{Name: "/camera/image_raw", Type: "sensor_msgs/msg/Image", SerializationFormat: "cdr"}}
	createDB3Func(t, path, topics, n, func(i int) written {
		return written{topic: "/camera/image_raw", nanos: t0 + int64(i)*1e6, data: payload(buf, i)}
	})
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	size := uint64(st.Size())

	peak := readStreaming(t, path, n)
	t.Logf("database %d MB, peak heap in use while reading %.1f MB", size>>20, float64(peak)/(1<<20))
	if peak > size/4 {
		t.Fatalf("reading a %d-byte database used %d bytes of heap: it is not streaming", size, peak)
	}
}
