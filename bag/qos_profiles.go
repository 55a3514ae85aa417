package bag

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseOfferedQoS reads a topic's recorded offered_qos_profiles (the
// YAML text of [TopicInfo.OfferedQoSProfiles]) and returns the QoS
// that `ros2 bag play` on Humble offers when it republishes the topic:
// reliable only when every recorded publisher was reliable, transient
// local only when every one was. Depth is the largest keep-last depth
// recorded (0 when none was). Policies may be written as rmw numbers
// (Humble) or names ("reliable", "transient_local"). Empty text, as a
// bag without QoS records has, returns ok false and the zero QoS.
func ParseOfferedQoS(profiles string) (q QoS, ok bool, err error) {
	if strings.TrimSpace(profiles) == "" {
		return QoS{}, false, nil
	}
	var list []map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(profiles), &list); err != nil {
		return QoS{}, false, fmt.Errorf("bag: offered_qos_profiles: %w", err)
	}
	if len(list) == 0 {
		return QoS{}, false, nil
	}
	q = QoS{Reliability: ReliabilityReliable, Durability: DurabilityTransientLocal}
	for i, p := range list {
		rel, err := policyValue(p, "reliability", map[string]int{"reliable": 1, "best_effort": 2})
		if err != nil {
			return QoS{}, false, fmt.Errorf("bag: offered_qos_profiles[%d]: %w", i, err)
		}
		dur, err := policyValue(p, "durability", map[string]int{"transient_local": 1, "volatile": 2})
		if err != nil {
			return QoS{}, false, fmt.Errorf("bag: offered_qos_profiles[%d]: %w", i, err)
		}
		hist, err := policyValue(p, "history", map[string]int{"keep_last": 1, "keep_all": 2})
		if err != nil {
			return QoS{}, false, fmt.Errorf("bag: offered_qos_profiles[%d]: %w", i, err)
		}
		if rel != int(ReliabilityReliable) {
			q.Reliability = ReliabilityBestEffort
		}
		if dur != int(DurabilityTransientLocal) {
			q.Durability = DurabilityVolatile
		}
		if depth, err := policyValue(p, "depth", nil); err == nil && hist == 1 {
			q.Depth = max(q.Depth, depth)
		}
	}
	return q, true, nil
}

// policyValue reads one policy of a profile as its rmw number; a missing
// key reads as 0 (system default).
func policyValue(p map[string]yaml.Node, key string, names map[string]int) (int, error) {
	n, found := p[key]
	if !found {
		return 0, nil
	}
	if v, err := strconv.Atoi(n.Value); err == nil && v >= 0 {
		return v, nil
	}
	name := strings.TrimPrefix(strings.ToLower(n.Value), "rmw_qos_policy_"+key+"_")
	if v, ok := names[name]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%s %q is not a known value", key, n.Value)
}
