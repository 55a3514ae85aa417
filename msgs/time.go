package msgs

import (
	"time"

	"github.com/deervla/deer_vla/msgs/cdr"
)

// Time is builtin_interfaces/msg/Time: a ROS time as whole seconds and
// nanoseconds in [0, 1e9).
type Time struct {
	Sec     int32
	Nanosec uint32
}

// TimeFromNanos converts nanoseconds since the epoch to a Time. Negative
// values keep Nanosec in [0, 1e9): -1 ns is {Sec: -1, Nanosec: 999999999}.
// Values outside the int32 seconds range wrap, as in ROS.
func TimeFromNanos(ns int64) Time {
	sec := ns / 1e9
	rem := ns % 1e9
	if rem < 0 {
		sec--
		rem += 1e9
	}
	return Time{Sec: int32(sec), Nanosec: uint32(rem)}
}

// TimeFromTime converts a time.Time to a Time.
func TimeFromTime(t time.Time) Time { return TimeFromNanos(t.UnixNano()) }

// Nanos returns t as nanoseconds since the epoch. A Nanosec field of 1e9 or
// more (invalid, but representable) simply adds.
func (t Time) Nanos() int64 { return int64(t.Sec)*1e9 + int64(t.Nanosec) }

// Time returns t as a time.Time in UTC.
func (t Time) Time() time.Time { return time.Unix(0, t.Nanos()).UTC() }

// TypeName returns [TimeType].
func (*Time) TypeName() string { return TimeType }

// MarshalCDR appends t's CDR encoding to buf.
func (t *Time) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	t.encode(&e)
	return e.Finish()
}

// UnmarshalCDR decodes data into t.
func (t *Time) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	t.decode(&d)
	if err := d.Err(); err != nil {
		return decodeError(TimeType, err)
	}
	return nil
}

func (t *Time) encode(e *cdr.Encoder) {
	e.Int32(t.Sec)
	e.Uint32(t.Nanosec)
}

func (t *Time) decode(d *cdr.Decoder) {
	t.Sec = d.Int32()
	t.Nanosec = d.Uint32()
}
