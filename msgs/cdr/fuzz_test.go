package cdr

import (
	"testing"
)

// FuzzDecoder reads any bytes as a stream of values whose kinds the data's
// own bytes choose. Whatever the input, the decoder must not panic, must
// never hand out a sequence longer than the bytes left could hold (so a
// caller never allocates for data that is not there), and after the first
// error must return zero values.
func FuzzDecoder(f *testing.F) {
	e := NewEncoder(nil)
	e.String("frame")
	e.Uint32(7)
	e.Uint8Seq([]byte{1, 2, 3})
	e.Float32Seq([]float32{1, 2})
	e.Float64(3)
	f.Add(e.Finish())
	f.Add([]byte{0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		var u8 []byte
		var f32 []float32
		for i := 0; i < 64 && d.Err() == nil; i++ {
			left := d.Remaining()
			// The op comes from the data itself: the byte at the current
			// offset, so mutations steer the value sequence.
			op := byte(i)
			if off := d.Offset(); off < len(data) {
				op ^= data[off]
			}
			switch op % 9 {
			case 0:
				d.Bool()
			case 1:
				d.Uint8()
			case 2:
				d.Uint16()
			case 3:
				d.Uint32()
			case 4:
				d.Float64()
			case 5:
				d.String("")
			case 6:
				if u8 = d.Uint8Seq(u8); len(u8) > left {
					t.Fatalf("uint8 sequence of %d elements from %d bytes", len(u8), left)
				}
			case 7:
				if f32 = d.Float32Seq(f32); 4*len(f32) > left {
					t.Fatalf("float32 sequence of %d elements from %d bytes", len(f32), left)
				}
			case 8:
				if n := d.SeqLen(8, "x"); 8*n > left {
					t.Fatalf("SeqLen %d of 8-byte elements from %d bytes", n, left)
				}
			}
			if d.Remaining() < 0 || d.Offset() > len(data) {
				t.Fatalf("offset %d past the %d-byte data", d.Offset(), len(data))
			}
		}
		if d.Err() != nil {
			if d.Uint64() != 0 || d.String("") != "" || len(d.Uint8Seq(nil)) != 0 {
				t.Fatal("a value read after an error is not zero")
			}
		}
	})
}
