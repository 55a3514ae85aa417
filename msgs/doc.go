// Package msgs holds plain Go structs for the ROS 2 messages the deer_vla
// node reads and writes, with their CDR encoding and their ros2msg text
// definitions. It needs no ROS installation.
//
// Each message type has:
//
//   - a TypeName constant such as [ImageType] ("sensor_msgs/msg/Image"), also
//     returned by its TypeName method;
//   - MarshalCDR(buf []byte) []byte, which appends the CDR bytes (with the
//     4-byte encapsulation header) to buf and returns the extended slice;
//   - UnmarshalCDR(data []byte) error, which decodes into the receiver and
//     reuses the capacity of its slices, and the storage of its strings when
//     they are unchanged, so decoding a stream of messages into one value
//     allocates nothing in steady state.
//
// A typical round trip:
//
//	var img msgs.Image
//	buf = img.MarshalCDR(buf[:0])
//	if err := img.UnmarshalCDR(buf); err != nil { ... }
//
// [Definition] returns the complete ros2msg text of a type with its
// dependencies, in the form rosbag2 stores as an MCAP schema, so bags
// written with these types open in Foxglove. The deer_vla_msgs definitions
// are embedded from deer_vla_msgs/msg/*.msg, the ROS interface package that
// lives in this directory.
//
// Times in ROS messages are [Time] values (seconds and nanoseconds);
// [TimeFromNanos] and [Time.Nanos] convert to and from int64 nanoseconds.
//
// The byte layout itself lives in package github.com/deervla/deer_vla/msgs/cdr.
//
// # Security Considerations
//
// UnmarshalCDR never panics on malformed input and rejects sequence lengths
// larger than the bytes left before allocating anything.
package msgs
