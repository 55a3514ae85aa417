package bag

import "fmt"

// Reliability is a QoS reliability policy, numbered as in rmw.
type Reliability int

// Reliability policies. The zero value means ReliabilityReliable.
const (
	ReliabilityReliable   Reliability = 1
	ReliabilityBestEffort Reliability = 2
)

// Durability is a QoS durability policy, numbered as in rmw.
type Durability int

// Durability policies. The zero value means DurabilityVolatile.
const (
	DurabilityTransientLocal Durability = 1
	DurabilityVolatile       Durability = 2
)

// QoS is the publisher QoS recorded for a topic (offered_qos_profiles).
// `ros2 bag play` offers the recorded reliability and durability when it
// republishes the topic; deadline, lifespan and liveliness are recorded
// as "infinite"/automatic. The zero value is a reliable, volatile
// publisher, the rclcpp default.
type QoS struct {
	// Reliability defaults to ReliabilityReliable.
	Reliability Reliability
	// Durability defaults to DurabilityVolatile. Use
	// DurabilityTransientLocal for latched topics such as an instruction.
	Durability Durability
	// Depth is the keep-last history depth. Zero records the history as
	// unknown with depth 0, as `ros2 bag record` does for the publishers it
	// sees; players use their own depth either way.
	Depth int
}

// rmwInfinity is RMW_DURATION_INFINITE as rosbag2 writes it.
const rmwInfinity = "\n    sec: 9223372036\n    nsec: 854775807"

// profilesYAML returns the offered_qos_profiles text rosbag2 stores: a YAML
// list with one profile, in the key order and integer form of Humble's
// rosbag2_transport (qos.cpp).
func (q QoS) profilesYAML() string {
	rel := q.Reliability
	if rel == 0 {
		rel = ReliabilityReliable
	}
	dur := q.Durability
	if dur == 0 {
		dur = DurabilityVolatile
	}
	history, depth := 3, 0 // RMW_QOS_POLICY_HISTORY_UNKNOWN
	if q.Depth > 0 {
		history, depth = 1, q.Depth // RMW_QOS_POLICY_HISTORY_KEEP_LAST
	}
	return fmt.Sprintf("- history: %d\n  depth: %d\n  reliability: %d\n  durability: %d\n"+
		"  deadline:"+rmwInfinity+"\n  lifespan:"+rmwInfinity+"\n  liveliness: 1\n"+
		"  liveliness_lease_duration:"+rmwInfinity+"\n  avoid_ros_namespace_conventions: false",
		history, depth, int(rel), int(dur))
}

func (q QoS) validate() error {
	switch {
	case q.Reliability < 0 || q.Reliability > ReliabilityBestEffort:
		return fmt.Errorf("QoS reliability %d is not 1 (reliable) or 2 (best effort)", q.Reliability)
	case q.Durability < 0 || q.Durability > DurabilityVolatile:
		return fmt.Errorf("QoS durability %d is not 1 (transient local) or 2 (volatile)", q.Durability)
	case q.Depth < 0:
		return fmt.Errorf("QoS depth %d is negative", q.Depth)
	}
	return nil
}
