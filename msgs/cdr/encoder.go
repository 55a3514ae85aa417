package cdr

import (
	"encoding/binary"
	"math"
)

// HeaderSize is the size of the encapsulation header in bytes.
const HeaderSize = 4

// Encoder appends little-endian CDR to a byte slice. Create one with
// [NewEncoder], call one method per field in declaration order, then
// [Encoder.Finish]. The zero Encoder is not usable.
//
// An Encoder is a small value meant to live on the caller's stack; encoding
// allocates only when the slice it appends to must grow.
type Encoder struct {
	buf    []byte
	origin int // index in buf of the first byte after the encapsulation header
}

// NewEncoder returns an Encoder that appends to buf: it first appends the
// CDR_LE encapsulation header 00 01 00 00. Any bytes already in buf are kept
// and do not affect alignment.
func NewEncoder(buf []byte) Encoder {
	buf = append(buf, 0x00, 0x01, 0x00, 0x00)
	return Encoder{buf: buf, origin: len(buf)}
}

// Finish pads the message with zeros to a multiple of 4 bytes (counted from
// the end of the header, as the ROS 2 middlewares do) and returns the
// extended slice.
func (e *Encoder) Finish() []byte {
	e.align(4)
	return e.buf
}

// Len returns the number of payload bytes written so far, header excluded.
func (e *Encoder) Len() int { return len(e.buf) - e.origin }

func (e *Encoder) align(n int) {
	for (len(e.buf)-e.origin)%n != 0 {
		e.buf = append(e.buf, 0)
	}
}

// Bool writes a bool as one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Uint8 writes a uint8 (also byte and char).
func (e *Encoder) Uint8(v uint8) { e.buf = append(e.buf, v) }

// Int8 writes an int8.
func (e *Encoder) Int8(v int8) { e.buf = append(e.buf, byte(v)) }

// Uint16 writes a 2-byte aligned uint16.
func (e *Encoder) Uint16(v uint16) {
	e.align(2)
	e.buf = binary.LittleEndian.AppendUint16(e.buf, v)
}

// Int16 writes a 2-byte aligned int16.
func (e *Encoder) Int16(v int16) { e.Uint16(uint16(v)) }

// Uint32 writes a 4-byte aligned uint32.
func (e *Encoder) Uint32(v uint32) {
	e.align(4)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}

// Int32 writes a 4-byte aligned int32.
func (e *Encoder) Int32(v int32) { e.Uint32(uint32(v)) }

// Uint64 writes an 8-byte aligned uint64.
func (e *Encoder) Uint64(v uint64) {
	e.align(8)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
}

// Int64 writes an 8-byte aligned int64.
func (e *Encoder) Int64(v int64) { e.Uint64(uint64(v)) }

// Float32 writes a 4-byte aligned IEEE 754 float32.
func (e *Encoder) Float32(v float32) { e.Uint32(math.Float32bits(v)) }

// Float64 writes an 8-byte aligned IEEE 754 float64.
func (e *Encoder) Float64(v float64) { e.Uint64(math.Float64bits(v)) }

// String writes a string: uint32 length counting the NUL, the bytes, a NUL.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s) + 1))
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
}

// SeqLen writes the uint32 element count that starts a sequence. Use it
// for sequences of types this package has no method for, then write each
// element.
func (e *Encoder) SeqLen(n int) { e.Uint32(uint32(n)) }

// Uint8Seq writes a uint8[] (or byte[]) sequence: count, then the bytes.
func (e *Encoder) Uint8Seq(b []byte) {
	e.SeqLen(len(b))
	e.buf = append(e.buf, b...)
}

// Float32Seq writes a float32[] sequence: count, then the elements.
func (e *Encoder) Float32Seq(v []float32) {
	e.SeqLen(len(v))
	e.Float32Array(v)
}

// Float32Array writes a fixed-size float32[N] array: the elements, no count.
func (e *Encoder) Float32Array(v []float32) {
	if len(v) == 0 {
		return
	}
	e.align(4)
	for _, f := range v {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(f))
	}
}
