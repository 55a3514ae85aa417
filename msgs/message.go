package msgs

import "fmt"

// ROS type names of the messages in this package, as they appear in
// rosbag2 metadata and MCAP schemas.
const (
	TimeType            = "builtin_interfaces/msg/Time"
	HeaderType          = "std_msgs/msg/Header"
	StringType          = "std_msgs/msg/String"
	ImageType           = "sensor_msgs/msg/Image"
	CompressedImageType = "sensor_msgs/msg/CompressedImage"
	ActionType          = "deer_vla_msgs/msg/Action"
	StepStatsType       = "deer_vla_msgs/msg/StepStats"
)

// Message is implemented by a pointer to every message type in this
// package.
type Message interface {
	// TypeName returns the ROS type name, such as "sensor_msgs/msg/Image".
	TypeName() string
	// MarshalCDR appends the CDR encoding, header included, to buf.
	MarshalCDR(buf []byte) []byte
	// UnmarshalCDR decodes data into the receiver, reusing its storage.
	UnmarshalCDR(data []byte) error
}

// New returns a new zero message of the named type, or false when the type
// is not one of this package's.
func New(typeName string) (Message, bool) {
	switch typeName {
	case TimeType:
		return new(Time), true
	case HeaderType:
		return new(Header), true
	case StringType:
		return new(String), true
	case ImageType:
		return new(Image), true
	case CompressedImageType:
		return new(CompressedImage), true
	case ActionType:
		return new(Action), true
	case StepStatsType:
		return new(StepStats), true
	}
	return nil, false
}

// decodeError wraps a codec error with the type being decoded.
func decodeError(typeName string, err error) error {
	return fmt.Errorf("msgs: decode %s: %w", typeName, err)
}
