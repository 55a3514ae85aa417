// Package cdr encodes and decodes the plain CDR (XCDR1) byte layout that
// ROS 2 uses for serialized messages, in rosbag2 files and on the wire.
//
// An encoded message starts with a 4-byte encapsulation header: 0x00 0x01
// for little-endian CDR (CDR_LE) or 0x00 0x00 for big-endian CDR (CDR_BE),
// followed by two option bytes. [Encoder] always writes little-endian
// (00 01 00 00); [Decoder] reads both byte orders and ignores the options.
//
// After the header every primitive is aligned to its own size (1, 2, 4 or 8
// bytes), counted from the first byte AFTER the header, not from the start of
// the buffer. A float64 that follows a 6-byte string therefore starts at
// offset 16 of the payload (byte 20 of the buffer), not at byte 16 of the
// buffer. Counting from the start of the buffer is a common bug: it only shows
// up with 8-byte fields.
//
// Strings are a uint32 length that counts the terminating NUL, the bytes,
// then the NUL. Sequences (T[]) are a uint32 element count followed by the
// elements, each aligned. Fixed arrays (T[N]) have no count.
//
// Encoders pad the finished message with zeros to a multiple of 4 bytes, as
// the ROS 2 middlewares do (`ros2 topic echo --raw /chatter` shows
// std_msgs/String "hello" as 00 01 00 00 06 00 00 00 'hello' 00 00 00).
// Decoders ignore bytes after the last field.
//
// The codec is a toolkit for hand-written message types (see package
// github.com/deervla/deer_vla/msgs); it knows nothing about .msg files.
//
// # Security Considerations
//
// [Decoder] never panics on malformed input. A declared sequence or string
// length larger than the bytes left is rejected before anything is
// allocated, so a short hostile input cannot make the decoder allocate a
// large buffer.
package cdr
