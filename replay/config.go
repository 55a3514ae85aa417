package replay

import (
	"io"

	"github.com/deervla/deer_vla/nodes/control"
)

// Topics are the bag topics the replay reads. Empty names are not read.
type Topics struct {
	Static            string // sensor_msgs/Image
	StaticCompressed  string // sensor_msgs/CompressedImage
	Gripper           string // sensor_msgs/Image
	GripperCompressed string // sensor_msgs/CompressedImage
	Instruction       string // std_msgs/String
	Expert            string // deer_vla_msgs/Action: demonstration actions to compare with
}

// DefaultTopics are the node's topics in the root namespace, and the
// demonstrations' expert action.
var DefaultTopics = Topics{
	Static:            "/static_image",
	StaticCompressed:  "/static_image/compressed",
	Gripper:           "/gripper_image",
	GripperCompressed: "/gripper_image/compressed",
	Instruction:       "/instruction",
	Expert:            "/expert_action",
}

// Output topics written to the output bag, beside the inputs.
const (
	ActionTopic = "/action"
	StatsTopic  = "/deer_vla/step_stats"
)

// Config is one replay.
type Config struct {
	// Bag is the input: a rosbag2 folder or a .mcap or .db3 file.
	Bag string
	// Topics to read. Zero value: DefaultTopics.
	Topics Topics
	// Params are the node's parameters; control.rate_hz picks stepping on
	// every static image (0) or at a fixed rate on the bag's time.
	Params control.Params
	// OutBag, optional, is a folder to write the inputs, actions and step
	// records to, as an MCAP rosbag2 bag.
	OutBag string
	// Progress, optional, receives a progress line now and then (a
	// terminal's stderr); nil is quiet.
	Progress io.Writer
}
