package replay

import (
	"fmt"
	"io"
	"strings"

	"github.com/deervla/deer_vla/nodes/control"
)

// Topics are the bag topics the replay reads, and the topics of its output
// bag. Empty input names are not read.
type Topics struct {
	Static            string // sensor_msgs/Image
	StaticCompressed  string // sensor_msgs/CompressedImage
	Gripper           string // sensor_msgs/Image
	GripperCompressed string // sensor_msgs/CompressedImage
	Instruction       string // std_msgs/String
	Expert            string // deer_vla_msgs/Action: demonstration actions to compare with
	Action            string // output: deer_vla_msgs/Action (empty: ActionTopic)
	Stats             string // output: deer_vla_msgs/StepStats (empty: StatsTopic)
}

// Output topics written to the output bag, beside the inputs: the node's
// action and ~/step_stats in the root namespace.
const (
	ActionTopic = "/action"
	StatsTopic  = "/deer_vla/step_stats"
)

// DefaultTopics are the node's topics in the root namespace, and the
// demonstrations' expert action.
var DefaultTopics = Topics{
	Static:            "/static_image",
	StaticCompressed:  "/static_image/compressed",
	Gripper:           "/gripper_image",
	GripperCompressed: "/gripper_image/compressed",
	Instruction:       "/instruction",
	Expert:            "/expert_action",
	Action:            ActionTopic,
	Stats:             StatsTopic,
}

// fields lists the topic names with what each is, for remapping and
// messages.
func (t *Topics) fields() []*string {
	return []*string{&t.Static, &t.StaticCompressed, &t.Gripper, &t.GripperCompressed, &t.Instruction, &t.Expert, &t.Action, &t.Stats}
}

// Remap renames the topics as ROS's `--remap from:=to` does for a node in
// the root namespace: from is one of the replay's names (relative names
// such as "static_image" and the private "~/step_stats" resolve as the
// node resolves them), to is the topic in the bag. As the launch file
// does, remapping an image topic also remaps its /compressed topic,
// unless a rule names that one itself. Rules apply to DefaultTopics when
// t is the zero value. A from that names none of the replay's topics is an
// error that lists them, so a typo does not go unnoticed.
func (t Topics) Remap(rules []string) (Topics, error) {
	if t == (Topics{}) {
		t = DefaultTopics
	}
	orig := t
	type rule struct{ from, to string }
	var images, others []rule
	for _, r := range rules {
		from, to, ok := strings.Cut(r, ":=")
		from, to = resolveName(strings.TrimSpace(from)), resolveName(strings.TrimSpace(to))
		if !ok || from == "/" || to == "/" {
			return t, fmt.Errorf("remap %q: want from:=to, e.g. /static_image:=/camera/image_raw", r)
		}
		if from == orig.Static || from == orig.Gripper {
			images = append(images, rule{from, to})
		} else {
			others = append(others, rule{from, to})
		}
	}
	for _, r := range append(images, others...) {
		found := false
		for i, f := range orig.fields() {
			if *f == r.from && r.from != "" {
				*t.fields()[i] = r.to
				found = true
			}
		}
		switch r.from {
		case orig.Static:
			t.StaticCompressed = r.to + "/compressed"
		case orig.Gripper:
			t.GripperCompressed = r.to + "/compressed"
		}
		if !found {
			return t, fmt.Errorf("remap %s:=%s: no topic %s to remap (the topics: %s)", r.from, r.to, r.from, strings.Join(orig.names(), ", "))
		}
	}
	return t, nil
}

// names returns the non-empty topic names.
func (t Topics) names() []string {
	var out []string
	for _, f := range t.fields() {
		if *f != "" {
			out = append(out, *f)
		}
	}
	return out
}

// resolveName makes a topic name absolute in the root namespace, with
// "~" standing for the node's name.
func resolveName(name string) string {
	switch {
	case name == "~":
		return "/" + control.NodeName
	case strings.HasPrefix(name, "~/"):
		return "/" + control.NodeName + name[1:]
	case strings.HasPrefix(name, "/"):
		return name
	}
	return "/" + name
}

// Config is one replay.
type Config struct {
	// Bag is the input: a rosbag2 folder or a .mcap or .db3 file.
	Bag string
	// Topics to read and write. Zero value: DefaultTopics.
	Topics Topics
	// Params are the node's parameters; control.rate_hz picks stepping on
	// every static image (0) or at a fixed rate on the bag's time.
	Params control.Params
	// OutBag, optional, is where to write the inputs (with their recorded
	// QoS), actions and step records: a single MCAP file when it ends in
	// ".mcap", else a rosbag2 bag folder (metadata.yaml and one MCAP
	// file). It must not exist.
	OutBag string
	// Progress, optional, receives a progress line now and then (a
	// terminal's stderr); nil is quiet.
	Progress io.Writer
}
