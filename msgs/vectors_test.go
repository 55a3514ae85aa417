package msgs

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// mustHex decodes hex that may contain spaces.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// stamp is the header stamp of several vectors: 1700000000 s, 123456789 ns.
var stamp = Time{Sec: 1700000000, Nanosec: 123456789}

const stampHex = "00f15365 15cd5b07"

// casesCDR are byte-exact encodings derived by hand from the CDR rules (see
// package cdr): they drive both TestMarshalCDR and TestUnmarshalCDR.
// Offsets in the comments count from the end of the 4-byte header.
var casesCDR = []struct {
	name string
	msg  Message
	hex  string
}{
	{
		// Also the real bytes: `ros2 topic echo --raw /chatter` prints
		// b'\x00\x01\x00\x00\x06\x00\x00\x00hello\x00\x00\x00' for this
		// message (ROS 2 Galactic release notes).
		name: "std_msgs/String hello",
		msg:  &String{Data: "hello"},
		hex: "00010000" + // CDR_LE
			"06000000 68656c6c6f00" + // length 6 with the NUL, "hello\0"
			"0000", // final padding to a multiple of 4
	},
	{
		name: "std_msgs/String empty",
		msg:  &String{},
		hex:  "00010000 01000000 00 000000",
	},
	{
		name: "builtin_interfaces/Time",
		msg:  &Time{Sec: 1, Nanosec: 2},
		hex:  "00010000 01000000 02000000",
	},
	{
		name: "std_msgs/Header",
		msg:  &Header{Stamp: Time{Sec: 1, Nanosec: 2}, FrameID: "cam"},
		hex:  "00010000 01000000 02000000 04000000 63616d00",
	},
	{
		name: "sensor_msgs/Image 2x1 rgb8",
		msg: &Image{
			Header:   Header{Stamp: Time{Sec: 1, Nanosec: 2}, FrameID: "cam"},
			Height:   1,
			Width:    2,
			Encoding: "rgb8",
			Step:     6,
			Data:     []byte{0xff, 0, 0, 0, 0xff, 0},
		},
		hex: "00010000" +
			"01000000 02000000" + // 0: stamp {1, 2}
			"04000000 63616d00" + // 8: frame_id "cam"
			"01000000" + // 16: height 1
			"02000000" + // 20: width 2
			"05000000 7267623800" + // 24: encoding "rgb8"
			"00" + // 33: is_bigendian
			"0000" + // 34: padding
			"06000000" + // 36: step 6
			"06000000 ff0000 00ff00" + // 40: data, 6 bytes: red, green
			"0000", // 50: final padding
	},
	{
		name: "sensor_msgs/CompressedImage jpeg",
		msg: &CompressedImage{
			Header: Header{Stamp: Time{Sec: 1, Nanosec: 2}, FrameID: "cam"},
			Format: "jpeg",
			Data:   []byte{0xff, 0xd8, 0xff, 0xd9},
		},
		hex: "00010000" +
			"01000000 02000000 04000000 63616d00" + // 0: header
			"05000000 6a70656700" + // 16: format "jpeg"
			"000000" + // 25: padding
			"04000000 ffd8ffd9", // 28: data, 4 bytes
	},
	{
		name: "deer_vla_msgs/Action",
		msg: &Action{
			Header:             Header{Stamp: stamp, FrameID: "cam"},
			PoseDelta:          [6]float32{0.5, -0.25, 0.125, 1, -1, 0},
			Gripper:            -1,
			GripperProbability: 0.25,
			ExitIndex:          3,
			GFLOPs:             12.5,
			LatencyMs:          20,
		},
		hex: "00010000" +
			stampHex + // 0: stamp
			"04000000 63616d00" + // 8: frame_id "cam"
			"0000003f 000080be 0000003e 0000803f 000080bf 00000000" + // 16: pose_delta[6], no count
			"000080bf" + // 40: gripper -1
			"0000803e" + // 44: gripper_probability 0.25
			"03" + // 48: exit_index 3
			"000000" + // 49: padding
			"00004841" + // 52: gflops 12.5
			"0000a041", // 56: latency_ms 20
	},
	{
		name: "deer_vla_msgs/StepStats",
		msg: &StepStats{
			Header:          Header{Stamp: stamp, FrameID: "cam"},
			ExitIndex:       2,
			MaxExit:         3,
			DeadlineCut:     true,
			GFLOPs:          8,
			AvgGFLOPsBudget: 10,
			WindowAvgGFLOPs: 9.5,
			Distances:       []float32{0.75, 0.25},
			Thresholds:      []float32{0.5, 0.375, 0.125},
			StageMs:         []float32{1.5, 2, 2.5, 0.5},
		},
		hex: "00010000" +
			stampHex + "04000000 63616d00" + // 0: header
			"02 03 00 01" + // 16: exit_index 2, max_exit 3, held false, deadline_cut true
			"00000041" + // 20: gflops 8
			"00002041" + // 24: avg_gflops_budget 10
			"00001841" + // 28: window_avg_gflops 9.5
			"02000000 0000403f 0000803e" + // 32: distances [0.75, 0.25]
			"03000000 0000003f 0000c03e 0000003e" + // 44: thresholds [0.5, 0.375, 0.125]
			"04000000 0000c03f 00000040 00002040 0000003f", // 60: stage_ms [1.5, 2, 2.5, 0.5]
	},
	{
		name: "deer_vla_msgs/StepStats held, empty sequences",
		msg: &StepStats{
			ExitIndex:       1,
			MaxExit:         1,
			Held:            true,
			GFLOPs:          2.5,
			WindowAvgGFLOPs: 3.25,
		},
		hex: "00010000" +
			"00000000 00000000" + // 0: stamp {0, 0}
			"01000000 00" + // 8: frame_id ""
			"01 01 01 00" + // 13: exit_index 1, max_exit 1, held true, deadline_cut false
			"000000" + // 17: padding
			"00002040" + // 20: gflops 2.5
			"00000000" + // 24: avg_gflops_budget 0
			"00005040" + // 28: window_avg_gflops 3.25
			"00000000 00000000 00000000", // 32: three empty sequences
	},
}

// vectorHex returns the hex of the casesCDR entry called name.
func vectorHex(t testing.TB, name string) string {
	t.Helper()
	for _, tc := range casesCDR {
		if tc.name == name {
			return tc.hex
		}
	}
	t.Fatalf("no CDR vector %q", name)
	return ""
}

func TestMarshalCDR(t *testing.T) {
	for _, tc := range casesCDR {
		t.Run(tc.name, func(t *testing.T) {
			want := mustHex(t, tc.hex)
			got := tc.msg.MarshalCDR(nil)
			if string(got) != string(want) {
				t.Fatalf("MarshalCDR\n got %x\nwant %x", got, want)
			}
			// Appending to a buffer keeps what was there.
			prefix := []byte("prefix")
			got = tc.msg.MarshalCDR(prefix)
			if string(got[:len(prefix)]) != "prefix" || string(got[len(prefix):]) != string(want) {
				t.Fatalf("MarshalCDR after a prefix\n got %x\nwant prefix+%x", got, want)
			}
		})
	}
}

func TestUnmarshalCDR(t *testing.T) {
	for _, tc := range casesCDR {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := New(tc.msg.TypeName())
			if !ok {
				t.Fatalf("New(%q) failed", tc.msg.TypeName())
			}
			if err := got.UnmarshalCDR(mustHex(t, tc.hex)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("UnmarshalCDR\n got %+v\nwant %+v", got, tc.msg)
			}
		})
	}
}

// casesDecodeOnly are inputs a decoder must accept that an encoder never
// writes.
var casesDecodeOnly = []struct {
	name string
	msg  Message
	hex  string
}{
	{
		name: "string without final padding",
		msg:  &String{Data: "hello"},
		hex:  "00010000 06000000 68656c6c6f00",
	},
	{
		name: "string with option bytes set",
		msg:  &String{Data: "hello"},
		hex:  "00010002 06000000 68656c6c6f00 0000",
	},
	{
		name: "string with length 0",
		msg:  &String{},
		hex:  "00010000 00000000",
	},
	{
		name: "big-endian string",
		msg:  &String{Data: "hello"},
		hex:  "00000000 00000006 68656c6c6f00 0000",
	},
	{
		name: "big-endian image",
		msg: &Image{
			Header:   Header{Stamp: Time{Sec: 1, Nanosec: 2}, FrameID: "cam"},
			Height:   1,
			Width:    2,
			Encoding: "rgb8",
			Step:     6,
			Data:     []byte{0xff, 0, 0, 0, 0xff, 0},
		},
		hex: "00000000 00000001 00000002 00000004 63616d00 00000001 00000002" +
			"00000005 7267623800 00 0000 00000006 00000006 ff000000ff00 0000",
	},
}

func TestUnmarshalCDRDecodeOnly(t *testing.T) {
	for _, tc := range casesDecodeOnly {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := New(tc.msg.TypeName())
			if err := got.UnmarshalCDR(mustHex(t, tc.hex)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("UnmarshalCDR\n got %+v\nwant %+v", got, tc.msg)
			}
		})
	}
}

func TestUnmarshalCDRErrors(t *testing.T) {
	imageHex := vectorHex(t, "sensor_msgs/Image 2x1 rgb8")
	actionHex := vectorHex(t, "deer_vla_msgs/Action")
	stepHex := vectorHex(t, "deer_vla_msgs/StepStats")
	tests := []struct {
		name    string
		msg     Message
		hex     string
		wantErr string
	}{
		{
			name:    "empty input",
			msg:     &String{},
			hex:     "",
			wantErr: "msgs: decode std_msgs/msg/String: cdr: bad encapsulation header: 0 bytes, need at least 4",
		},
		{
			name: "XCDR2 representation",
			msg:  &String{},
			hex:  "00070000 06000000 68656c6c6f00 0000",
			wantErr: "msgs: decode std_msgs/msg/String: cdr: bad encapsulation header: " +
				"representation 0x0007 is not CDR_BE (0x0000) or CDR_LE (0x0001)",
		},
		{
			name:    "string cut short",
			msg:     &String{},
			hex:     "00010000 06000000 68656c",
			wantErr: "msgs: decode std_msgs/msg/String: cdr: truncated data: string bytes at byte offset 8 needs 6 bytes, 3 left",
		},
		{
			name: "image data count larger than the data",
			msg:  &Image{},
			hex:  imageHex[:strings.LastIndex(imageHex, "06000000 ff")] + "ffffffff 00",
			wantErr: "msgs: decode sensor_msgs/msg/Image: cdr: truncated data: " +
				"uint8 sequence of 4294967295 elements at byte offset 48 needs 4294967295 bytes, 1 left",
		},
		{
			name:    "action without latency_ms",
			msg:     &Action{},
			hex:     strings.TrimSuffix(actionHex, "0000a041"),
			wantErr: "msgs: decode deer_vla_msgs/msg/Action: cdr: truncated data: float32 at byte offset 60 needs 4 bytes, 0 left",
		},
		{
			name:    "step stats held byte 2",
			msg:     &StepStats{},
			hex:     strings.Replace(stepHex, "02 03 00 01", "02 03 02 01", 1),
			wantErr: "msgs: decode deer_vla_msgs/msg/StepStats: cdr: invalid data at byte offset 22: bool byte is 0x02, want 0 or 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg.UnmarshalCDR(mustHex(t, tc.hex))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
			}
		})
	}
}

// TestUnmarshalCDRAllocs checks that decoding into a value that already
// holds a message of the same shape allocates nothing.
func TestUnmarshalCDRAllocs(t *testing.T) {
	for _, tc := range casesCDR {
		t.Run(tc.name, func(t *testing.T) {
			data := mustHex(t, tc.hex)
			m, _ := New(tc.msg.TypeName())
			if err := m.UnmarshalCDR(data); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(100, func() {
				if err := m.UnmarshalCDR(data); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("UnmarshalCDR allocated %v times per run", allocs)
			}
			buf := make([]byte, 0, 256)
			allocs = testing.AllocsPerRun(100, func() { buf = m.MarshalCDR(buf[:0]) })
			if allocs != 0 {
				t.Errorf("MarshalCDR into a large enough buffer allocated %v times per run", allocs)
			}
		})
	}
}

// TestUnmarshalCDRReusesData checks that an Image decode writes into the
// existing Data array when it is large enough.
func TestUnmarshalCDRReusesData(t *testing.T) {
	img := Image{Data: make([]byte, 0, 64)}
	if err := img.UnmarshalCDR(mustHex(t, vectorHex(t, "sensor_msgs/Image 2x1 rgb8"))); err != nil {
		t.Fatal(err)
	}
	if cap(img.Data) != 64 {
		t.Fatalf("Data was reallocated: cap %d, want 64", cap(img.Data))
	}
}
