package control

import (
	"strings"
)

// This file holds the logic of the rcl_interfaces parameter services
// (list, get, get_types, describe, set, set_atomically) in plain Go, so it
// is tested without ROS; nodes/ros only converts messages.

// NamedValue is a parameter name and value, as rcl_interfaces/Parameter.
type NamedValue struct {
	Name  string
	Value Value
}

// SetResult is rcl_interfaces/SetParametersResult.
type SetResult struct {
	Successful bool
	Reason     string
}

// ListParameters answers rcl_interfaces/srv/ListParameters the way rclcpp
// does: with no prefixes, every name with fewer than depth separators
// (depth 0 means any); with prefixes, names equal to one or below one
// within depth. Prefixes lists the parents of the names returned.
func (n *Node) ListParameters(prefixes []string, depth uint64) (names, parents []string) {
	for _, d := range Descriptors {
		name := d.Name
		all := len(prefixes) == 0 && (depth == 0 || uint64(strings.Count(name, ".")) < depth)
		match := false
		for _, p := range prefixes {
			if name == p {
				match = true
			} else if rest, ok := strings.CutPrefix(name, p+"."); ok && (depth == 0 || uint64(strings.Count(rest, ".")) < depth) {
				match = true
			}
		}
		if !all && !match {
			continue
		}
		names = append(names, name)
		if i := strings.LastIndexByte(name, '.'); i >= 0 && !contains(parents, name[:i]) {
			parents = append(parents, name[:i])
		}
	}
	return names, parents
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// GetParameters returns each value; an unknown name gets the zero Value
// (PARAMETER_NOT_SET), as rclcpp does.
func (n *Node) GetParameters(names []string) []Value {
	p := n.Params()
	out := make([]Value, len(names))
	for i, name := range names {
		out[i], _ = p.Get(name)
	}
	return out
}

// GetParameterTypes returns each parameter's kind, 0 for unknown names.
func (n *Node) GetParameterTypes(names []string) []Kind {
	out := make([]Kind, len(names))
	for i, name := range names {
		if d, ok := Describe(name); ok {
			out[i] = d.Kind
		}
	}
	return out
}

// DescribeParameters returns each descriptor; an unknown name gets a
// descriptor with only its name.
func (n *Node) DescribeParameters(names []string) []Descriptor {
	out := make([]Descriptor, len(names))
	for i, name := range names {
		d, ok := Describe(name)
		if !ok {
			d = Descriptor{Name: name}
		}
		out[i] = d
	}
	return out
}

// SetParametersEach applies each change on its own, as the SetParameters
// service does: one result per parameter, earlier successes stay when a
// later one fails.
func (n *Node) SetParametersEach(changes []NamedValue) []SetResult {
	out := make([]SetResult, len(changes))
	for i, c := range changes {
		out[i] = n.SetParametersAtomically([]NamedValue{c})
	}
	return out
}

// SetParametersAtomically applies all changes or none.
func (n *Node) SetParametersAtomically(changes []NamedValue) SetResult {
	batch := make(map[string]Value, len(changes))
	for _, c := range changes {
		if c.Value.Kind == 0 {
			return SetResult{Reason: "parameter " + c.Name + " cannot be deleted: this node declares every parameter it has, each with a value"}
		}
		batch[c.Name] = c.Value
	}
	if err := n.SetParams(batch); err != nil {
		return SetResult{Reason: err.Error()}
	}
	return SetResult{Successful: true}
}
