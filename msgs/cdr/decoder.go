package cdr

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Decoder reads CDR values from an encoded message in declaration order.
// Create one with [NewDecoder].
//
// Errors are sticky: after the first failure every read returns the zero
// value and [Decoder.Err] reports that first failure, so a message decoder
// can read all of its fields and check the error once at the end. A
// Decoder never panics, whatever the input.
type Decoder struct {
	data   []byte
	pos    int
	origin int
	big    bool
	err    error
}

// NewDecoder returns a Decoder for data, which must start with the
// encapsulation header of CDR_LE (00 01) or CDR_BE (00 00); the two option
// bytes are ignored. A missing or unsupported header is reported by
// [Decoder.Err].
func NewDecoder(data []byte) Decoder {
	d := Decoder{data: data, pos: HeaderSize, origin: HeaderSize}
	switch {
	case len(data) < HeaderSize:
		d.pos = len(data)
		d.err = fmt.Errorf("%w: %d bytes, need at least %d", ErrHeader, len(data), HeaderSize)
	case data[0] != 0 || data[1] > 1:
		d.err = fmt.Errorf("%w: representation 0x%02x%02x is not CDR_BE (0x0000) or CDR_LE (0x0001)",
			ErrHeader, data[0], data[1])
	default:
		d.big = data[1] == 0
	}
	return d
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the byte offset, header included, of the next read.
func (d *Decoder) Offset() int { return d.pos }

// BigEndian reports whether the data is big-endian (CDR_BE).
func (d *Decoder) BigEndian() bool { return d.big }

// Remaining returns the number of bytes left after the last value read,
// which is typically the 0 to 3 bytes of final padding.
func (d *Decoder) Remaining() int { return len(d.data) - d.pos }

// take aligns to align bytes and returns the next n bytes, or nil after
// recording a TruncatedError.
func (d *Decoder) take(align int, n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	start := d.pos
	if align > 1 {
		if rem := (start - d.origin) % align; rem != 0 {
			start += align - rem
		}
	}
	left := len(d.data) - start
	if left < 0 {
		left = 0
	}
	if n > uint64(left) {
		d.err = &TruncatedError{What: what, Offset: start, Need: n, Left: left}
		return nil
	}
	end := start + int(n)
	d.pos = end
	return d.data[start:end]
}

func (d *Decoder) u16(b []byte) uint16 {
	if d.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (d *Decoder) u32(b []byte) uint32 {
	if d.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (d *Decoder) u64(b []byte) uint64 {
	if d.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// Bool reads a one-byte bool. Values other than 0 and 1 are an error, as in
// Fast-CDR.
func (d *Decoder) Bool() bool {
	b := d.take(1, 1, "bool")
	if b == nil {
		return false
	}
	if b[0] > 1 {
		d.err = &FormatError{Offset: d.pos - 1, Msg: fmt.Sprintf("bool byte is 0x%02x, want 0 or 1", b[0])}
		return false
	}
	return b[0] == 1
}

// Uint8 reads a uint8 (also byte and char).
func (d *Decoder) Uint8() uint8 {
	b := d.take(1, 1, "uint8")
	if b == nil {
		return 0
	}
	return b[0]
}

// Int8 reads an int8.
func (d *Decoder) Int8() int8 { return int8(d.Uint8()) }

// Uint16 reads a 2-byte aligned uint16.
func (d *Decoder) Uint16() uint16 {
	b := d.take(2, 2, "uint16")
	if b == nil {
		return 0
	}
	return d.u16(b)
}

// Int16 reads a 2-byte aligned int16.
func (d *Decoder) Int16() int16 { return int16(d.Uint16()) }

// Uint32 reads a 4-byte aligned uint32.
func (d *Decoder) Uint32() uint32 {
	b := d.take(4, 4, "uint32")
	if b == nil {
		return 0
	}
	return d.u32(b)
}

// Int32 reads a 4-byte aligned int32.
func (d *Decoder) Int32() int32 { return int32(d.Uint32()) }

// Uint64 reads an 8-byte aligned uint64.
func (d *Decoder) Uint64() uint64 {
	b := d.take(8, 8, "uint64")
	if b == nil {
		return 0
	}
	return d.u64(b)
}

// Int64 reads an 8-byte aligned int64.
func (d *Decoder) Int64() int64 { return int64(d.Uint64()) }

// Float32 reads a 4-byte aligned float32.
func (d *Decoder) Float32() float32 {
	b := d.take(4, 4, "float32")
	if b == nil {
		return 0
	}
	return math.Float32frombits(d.u32(b))
}

// Float64 reads an 8-byte aligned float64.
func (d *Decoder) Float64() float64 {
	b := d.take(8, 8, "float64")
	if b == nil {
		return 0
	}
	return math.Float64frombits(d.u64(b))
}

// stringBytes reads a string's bytes without the NUL. Like Fast-CDR it
// accepts a length of 0 (an empty string) and a last byte that is not NUL
// (kept as part of the string).
func (d *Decoder) stringBytes() []byte {
	lb := d.take(4, 4, "string length")
	if lb == nil {
		return nil
	}
	n := d.u32(lb)
	b := d.take(1, uint64(n), "string bytes")
	if b == nil {
		return nil
	}
	if n > 0 && b[n-1] == 0 {
		b = b[:n-1]
	}
	return b
}

// String reads a string. When its bytes equal reuse, it returns reuse
// itself and does not allocate, so decoding into a message whose string
// field already holds the value (a frame_id, an encoding) is free; pass ""
// when there is nothing to reuse.
func (d *Decoder) String(reuse string) string {
	b := d.stringBytes()
	if string(b) == reuse {
		return reuse
	}
	return string(b)
}

// SeqLen reads the uint32 element count that starts a sequence and checks
// that n elements of at least minElemSize bytes each fit in the bytes left,
// so a caller can allocate n elements safely. It returns 0 on error.
func (d *Decoder) SeqLen(minElemSize int, what string) int {
	lb := d.take(4, 4, "sequence length")
	if lb == nil {
		return 0
	}
	n := d.u32(lb)
	if minElemSize < 1 {
		minElemSize = 1
	}
	need := uint64(n) * uint64(minElemSize)
	if left := len(d.data) - d.pos; need > uint64(left) {
		d.err = &TruncatedError{What: fmt.Sprintf("%s of %d elements", what, n), Offset: d.pos, Need: need, Left: left}
		return 0
	}
	return int(n)
}

// Uint8Seq reads a uint8[] (byte[]) sequence into dst's storage, growing it
// only when its capacity is too small, and returns the filled slice.
func (d *Decoder) Uint8Seq(dst []byte) []byte {
	n := d.SeqLen(1, "uint8 sequence")
	b := d.take(1, uint64(n), "uint8 sequence")
	if b == nil {
		return dst[:0]
	}
	dst = slices.Grow(dst[:0], n)[:n]
	copy(dst, b)
	return dst
}

// Float32Seq reads a float32[] sequence into dst's storage, growing it only
// when its capacity is too small, and returns the filled slice.
func (d *Decoder) Float32Seq(dst []float32) []float32 {
	n := d.SeqLen(4, "float32 sequence")
	if d.err != nil || n == 0 {
		return dst[:0]
	}
	dst = slices.Grow(dst[:0], n)[:n]
	d.Float32Array(dst)
	if d.err != nil {
		return dst[:0]
	}
	return dst
}

// Float32Array reads a fixed-size float32[len(dst)] array into dst.
func (d *Decoder) Float32Array(dst []float32) {
	if len(dst) == 0 {
		return
	}
	b := d.take(4, 4*uint64(len(dst)), "float32 array")
	if b == nil {
		clear(dst)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(d.u32(b[4*i:]))
	}
}
