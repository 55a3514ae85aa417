package bag

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/deervla/deer_vla/msgs"
	"github.com/foxglove/mcap/go/mcap"
)

// written is one message a test wrote, to compare with what is read back.
type written struct {
	topic, typ string
	nanos      int64
	data       []byte
}

const t0 = int64(1700000000_000000000)

// sampleMessages returns messages on /camera/image_raw (Image),
// /instruction (String) and /action (Action), with log times that are not
// in write order.
func sampleMessages(t testing.TB) []written {
	t.Helper()
	var out []written
	add := func(topic string, nanos int64, m msgs.Message) {
		out = append(out, written{topic: topic, typ: m.TypeName(), nanos: nanos, data: m.MarshalCDR(nil)})
	}
	add("/instruction", t0, &msgs.String{Data: "put the red block in the bowl"})
	for i := range 5 {
		stamp := t0 + int64(i)*100_000_000
		img := &msgs.Image{
			Header: msgs.Header{Stamp: msgs.TimeFromNanos(stamp), FrameID: "camera_optical"},
			Height: 2, Width: 2, Encoding: "rgb8", Step: 6,
			Data: []byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		}
		add("/camera/image_raw", stamp+1_000_000, img)
		act := &msgs.Action{
			Header:    img.Header,
			PoseDelta: [6]float32{float32(i), 0.1, 0.2, 0.3, 0.4, 0.5},
			Gripper:   1, GripperProbability: 0.9, ExitIndex: uint8(1 + i%4), GFLOPs: 3.5, LatencyMs: 12,
		}
		// Written right after the image but logged a little before the
		// next image: order by log time differs from write order.
		add("/action", stamp+1_000_000+150_000_000, act)
	}
	return out
}

// writeBag writes msgs to a new bag folder dir and returns dir.
func writeBag(t testing.TB, dir string, opts WriterOptions, ms []written) string {
	t.Helper()
	w, err := Create(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, w, ms)
	return dir
}

// fill writes ms to w, adding each topic at its first message (the
// instruction latched, as the node subscribes to it), and closes w.
func fill(t testing.TB, w *Writer, ms []written) {
	t.Helper()
	added := map[string]bool{}
	for _, m := range ms {
		if !added[m.topic] {
			qos := QoS{}
			if m.topic == "/instruction" {
				qos.Durability = DurabilityTransientLocal
				qos.Depth = 1
			}
			if err := w.AddTopic(m.topic, m.typ, qos); err != nil {
				t.Fatal(err)
			}
			added[m.topic] = true
		}
		if err := w.Write(m.topic, m.nanos, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every message of the bag at path, copying the data.
func readAll(t testing.TB, path string, opts ...Option) ([]written, []TopicInfo) {
	t.Helper()
	r, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []written
	var m Message
	for {
		err := r.Next(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, written{topic: m.Topic, typ: m.Type, nanos: m.LogTimeNanos, data: append([]byte(nil), m.Data...)})
	}
	if err := r.Next(&m); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end = %v, want io.EOF", err)
	}
	return out, r.Topics()
}

// mcapFile returns the path of the single .mcap file of a bag folder.
func mcapFile(t testing.TB, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.mcap"))
	if err != nil || len(m) != 1 {
		t.Fatalf("want one .mcap file in %s, found %v (%v)", dir, m, err)
	}
	return m[0]
}

// copyFile copies src to dst.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// inspectMCAP opens an MCAP file for inspection; it is closed with the test.
func inspectMCAP(t *testing.T, path string) *mcap.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := mcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
