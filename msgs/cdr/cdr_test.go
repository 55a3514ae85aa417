package cdr

import (
	"encoding/hex"
	"errors"
	"io"
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

// TestAlignmentCountsFromAfterHeader pins the rule that alignment is
// relative to the end of the encapsulation header. Were it counted from
// the start of the buffer, the uint64 would need 3 bytes of padding, not 7.
func TestAlignmentCountsFromAfterHeader(t *testing.T) {
	e := NewEncoder(nil)
	e.Uint8(1)
	e.Uint64(2)
	got := e.Finish()
	want := mustHex(t, "00010000 01 00000000000000 0200000000000000")
	if string(got) != string(want) {
		t.Fatalf("encoded\n got %x\nwant %x", got, want)
	}
	d := NewDecoder(got)
	if a, b := d.Uint8(), d.Uint64(); a != 1 || b != 2 || d.Err() != nil {
		t.Fatalf("decoded %d, %d, err %v", a, b, d.Err())
	}
}

// TestEncoderKeepsPrefix checks that bytes already in the caller's buffer
// neither move nor shift the alignment.
func TestEncoderKeepsPrefix(t *testing.T) {
	e := NewEncoder([]byte{0xaa, 0xbb, 0xcc})
	e.Uint8(1)
	e.Uint32(2)
	got := e.Finish()
	want := mustHex(t, "aabbcc 00010000 01 000000 02000000")
	if string(got) != string(want) {
		t.Fatalf("encoded\n got %x\nwant %x", got, want)
	}
}

// magneticField is sensor_msgs/msg/MagneticField: a header, a
// geometry_msgs/Vector3 (3 float64) and a float64[9] covariance. Its bytes
// are the MSG_MAGN vector of the ternaris/rosbags test suite
// (tests/test_serde.py), which checks them against rclpy: 6 bytes of
// padding after the frame_id put the first float64 at payload offset 24.
const magneticFieldHex = "00010000" +
	"c4020000 00010000" + // stamp 708 s, 256 ns
	"06000000 666f6f343200" + // frame_id "foo42"
	"000000000000" + // padding to 8
	"0000000000006040 0000000000006040 0000000000006040" + // x, y, z = 128
	"000000000000f03f 0000000000000000 0000000000000000" + // covariance, diagonal 1
	"0000000000000000 000000000000f03f 0000000000000000" +
	"0000000000000000 0000000000000000 000000000000f03f"

func TestMagneticFieldVector(t *testing.T) {
	want := mustHex(t, magneticFieldHex)
	cov := []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}

	e := NewEncoder(nil)
	e.Int32(708)
	e.Uint32(256)
	e.String("foo42")
	for range 3 {
		e.Float64(128)
	}
	for _, c := range cov {
		e.Float64(c)
	}
	if got := e.Finish(); string(got) != string(want) {
		t.Fatalf("encoded\n got %x\nwant %x", got, want)
	}

	d := NewDecoder(want)
	if sec, ns, frame := d.Int32(), d.Uint32(), d.String(""); sec != 708 || ns != 256 || frame != "foo42" {
		t.Fatalf("header = %d, %d, %q", sec, ns, frame)
	}
	for i := range 3 {
		if v := d.Float64(); v != 128 {
			t.Fatalf("field %d = %v, want 128", i, v)
		}
	}
	for i, c := range cov {
		if v := d.Float64(); v != c {
			t.Fatalf("covariance[%d] = %v, want %v", i, v, c)
		}
	}
	if d.Err() != nil || d.Remaining() != 0 {
		t.Fatalf("err %v, %d bytes left", d.Err(), d.Remaining())
	}
}

// TestJointTrajectoryVector decodes the MSG_JOINT vector of the
// ternaris/rosbags test suite: trajectory_msgs/msg/JointTrajectory with a
// string sequence, an empty points sequence and 3 trailing padding bytes.
func TestJointTrajectoryVector(t *testing.T) {
	data := mustHex(t, "00010000"+
		"c4020000 00010000"+ // stamp 708 s, 256 ns
		"04000000 62617200"+ // frame_id "bar"
		"02000000"+ // 2 joint names
		"02000000 6100 0000"+ // "a", padding
		"02000000 6200 0000"+ // "b", padding
		"00000000"+ // 0 points
		"000000") // trailing padding
	d := NewDecoder(data)
	d.Int32()
	d.Uint32()
	if frame := d.String(""); frame != "bar" {
		t.Fatalf("frame_id = %q", frame)
	}
	n := d.SeqLen(5, "joint_names")
	var names []string
	for range n {
		names = append(names, d.String(""))
	}
	points := d.SeqLen(1, "points")
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "a,b" || points != 0 || d.Remaining() != 3 {
		t.Fatalf("names %q, points %d, remaining %d", names, points, d.Remaining())
	}
}

func TestBigEndian(t *testing.T) {
	data := mustHex(t, "00000000 01 00 0002 00000003 0000000000000004 3f800000 00000006 68656c6c6f00")
	d := NewDecoder(data)
	if !d.BigEndian() {
		t.Fatal("BigEndian() = false for 00 00 header")
	}
	if v := d.Uint8(); v != 1 {
		t.Errorf("uint8 = %d", v)
	}
	if v := d.Uint16(); v != 2 {
		t.Errorf("uint16 = %d", v)
	}
	if v := d.Uint32(); v != 3 {
		t.Errorf("uint32 = %d", v)
	}
	if v := d.Uint64(); v != 4 {
		t.Errorf("uint64 = %d", v)
	}
	if v := d.Float32(); v != 1 {
		t.Errorf("float32 = %v", v)
	}
	if v := d.String(""); v != "hello" {
		t.Errorf("string = %q", v)
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
}

func TestPrimitivesRoundTrip(t *testing.T) {
	e := NewEncoder(nil)
	e.Bool(true)
	e.Int8(-2)
	e.Int16(-300)
	e.Int32(-70000)
	e.Int64(-1 << 40)
	e.Float64(-2.5)
	e.String("")
	e.Uint8Seq([]byte{1, 2, 3})
	e.Float32Seq([]float32{0.5, -1})
	e.Float32Array([]float32{3, 4})
	data := e.Finish()
	if len(data)%4 != 0 {
		t.Fatalf("length %d is not a multiple of 4", len(data))
	}

	d := NewDecoder(data)
	b, i8, i16, i32, i64, f64, s := d.Bool(), d.Int8(), d.Int16(), d.Int32(), d.Int64(), d.Float64(), d.String("")
	u8s := d.Uint8Seq(nil)
	f32s := d.Float32Seq(nil)
	arr := make([]float32, 2)
	d.Float32Array(arr)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if !b || i8 != -2 || i16 != -300 || i32 != -70000 || i64 != -1<<40 || f64 != -2.5 || s != "" {
		t.Fatalf("scalars = %v %v %v %v %v %v %q", b, i8, i16, i32, i64, f64, s)
	}
	if string(u8s) != "\x01\x02\x03" || len(f32s) != 2 || f32s[0] != 0.5 || f32s[1] != -1 || arr[0] != 3 || arr[1] != 4 {
		t.Fatalf("sequences = %v %v %v", u8s, f32s, arr)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		read    func(d *Decoder)
		wantErr string
		wantEOF bool
	}{
		{
			name:    "empty",
			hex:     "",
			read:    func(d *Decoder) { d.Uint8() },
			wantErr: "cdr: bad encapsulation header: 0 bytes, need at least 4",
		},
		{
			name:    "parameter list CDR",
			hex:     "00030000",
			read:    func(d *Decoder) { d.Uint8() },
			wantErr: "cdr: bad encapsulation header: representation 0x0003 is not CDR_BE (0x0000) or CDR_LE (0x0001)",
		},
		{
			name:    "uint32 cut short",
			hex:     "00010000 0102",
			read:    func(d *Decoder) { d.Uint32() },
			wantErr: "cdr: truncated data: uint32 at byte offset 4 needs 4 bytes, 2 left",
			wantEOF: true,
		},
		{
			name:    "padding past the end",
			hex:     "00010000 01 0000",
			read:    func(d *Decoder) { d.Uint8(); d.Uint32() },
			wantErr: "cdr: truncated data: uint32 at byte offset 8 needs 4 bytes, 0 left",
			wantEOF: true,
		},
		{
			name:    "string longer than data",
			hex:     "00010000 06000000 68656c",
			read:    func(d *Decoder) { d.String("") },
			wantErr: "cdr: truncated data: string bytes at byte offset 8 needs 6 bytes, 3 left",
			wantEOF: true,
		},
		{
			name:    "huge sequence rejected before allocating",
			hex:     "00010000 ffffffff 00",
			read:    func(d *Decoder) { d.Float32Seq(nil) },
			wantErr: "cdr: truncated data: float32 sequence of 4294967295 elements at byte offset 8 needs 17179869180 bytes, 1 left",
			wantEOF: true,
		},
		{
			name:    "bool out of range",
			hex:     "00010000 02",
			read:    func(d *Decoder) { d.Bool() },
			wantErr: "cdr: invalid data at byte offset 4: bool byte is 0x02, want 0 or 1",
		},
		{
			name:    "error is sticky",
			hex:     "00010000 01",
			read:    func(d *Decoder) { d.Uint16(); d.Uint8() },
			wantErr: "cdr: truncated data: uint16 at byte offset 4 needs 2 bytes, 1 left",
			wantEOF: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(mustHex(t, tc.hex))
			tc.read(&d)
			err := d.Err()
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.wantEOF {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v", got, tc.wantEOF)
			}
		})
	}
}

func TestStringReuse(t *testing.T) {
	e := NewEncoder(nil)
	e.String("camera_optical")
	data := e.Finish()
	old := "camera_optical"
	d := NewDecoder(data)
	if got := d.String(old); got != old || d.Err() != nil {
		t.Fatalf("String(old) = %q, %v", got, d.Err())
	}
	allocs := testing.AllocsPerRun(100, func() {
		d := NewDecoder(data)
		_ = d.String(old)
	})
	if allocs != 0 {
		t.Errorf("String of an unchanged string allocated %v times", allocs)
	}
}
