package control

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/deervla/deer_vla/internal/limitread"
	"gopkg.in/yaml.v3"
)

// NodeName is the node's default name; executables and launch files use it.
const NodeName = "deer_vla"

// MaxParamsFileBytes is the largest --params-file read.
const MaxParamsFileBytes = 1 << 20

// paramsKey holds a node's parameters in a params file.
const paramsKey = "ros__parameters"

// Overrides holds the parameter values of params files and -p arguments as
// rcl holds them (rcl_params_t), so that a node sees what an rclcpp node
// with the same command line would: node entries in the order they first
// appear, each with its parameters in the order they first appear; a value
// given again for the same entry replaces the earlier one in place. A node
// applies every entry that matches its name in that order, so a later entry
// wins. Values stay YAML until a node asks for them: another node's
// parameters never stop this one.
type Overrides struct {
	entries []*overrideEntry
}

type overrideEntry struct {
	node   string // as written; nested keys joined with "/"
	match  *regexp.Regexp
	names  []string
	values map[string]*yaml.Node
	where  map[string]string // "file:line" or "-p", for messages
}

// AddFile reads a ROS 2 params file (the format of --params-file and
// `ros2 param dump`): node names, possibly nested as namespaces, each with
// a ros__parameters map; nested maps there become dotted names (budget:
// {avg_gflops: 1} is budget.avg_gflops).
func (o *Overrides) AddFile(path string) error {
	data, err := limitread.File(path, MaxParamsFileBytes)
	if err != nil {
		return fmt.Errorf("control: params file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("control: params file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	if err := o.addNodes(doc.Content[0], "", path); err != nil {
		return fmt.Errorf("control: params file %s: %w", path, err)
	}
	return nil
}

// addNodes walks the node-name levels of a params file down to each
// ros__parameters map.
func (o *Overrides) addNodes(n *yaml.Node, prefix, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected node names, each with a %s map", n.Line, paramsKey)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Value != paramsKey {
			name := key.Value
			if prefix != "" {
				name = prefix + "/" + key.Value
			}
			if err := o.addNodes(val, name, path); err != nil {
				return err
			}
			continue
		}
		if prefix == "" {
			return fmt.Errorf("line %d: %s without a node name above it", key.Line, paramsKey)
		}
		e, err := o.entry(prefix)
		if err != nil {
			return fmt.Errorf("line %d: %w", key.Line, err)
		}
		if err := e.addParams(val, "", path); err != nil {
			return err
		}
	}
	return nil
}

// addParams flattens a ros__parameters map into dotted names.
func (e *overrideEntry) addParams(n *yaml.Node, prefix, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s of %s must be a map of parameter names to values", n.Line, paramsKey, e.node)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := prefix+n.Content[i].Value, n.Content[i+1]
		if v.Kind == yaml.MappingNode {
			if err := e.addParams(v, name+".", path); err != nil {
				return err
			}
			continue
		}
		e.set(name, v, fmt.Sprintf("%s:%d", path, v.Line))
	}
	return nil
}

func (e *overrideEntry) set(name string, v *yaml.Node, where string) {
	if _, ok := e.values[name]; !ok {
		e.names = append(e.names, name)
	}
	e.values[name], e.where[name] = v, where
}

// entry returns the entry of a node name, adding it at the end if new.
func (o *Overrides) entry(node string) (*overrideEntry, error) {
	for _, e := range o.entries {
		if e.node == node {
			return e, nil
		}
	}
	re, err := nodeNamePattern(node)
	if err != nil {
		return nil, err
	}
	e := &overrideEntry{node: node, match: re, values: map[string]*yaml.Node{}, where: map[string]string{}}
	o.entries = append(o.entries, e)
	return e, nil
}

// nodeNamePattern turns a node name of a params file into the expression
// rclcpp matches fully qualified names with (rclcpp::parameter_map_from):
// a leading "/" is implied, "/*" is one name level and "/**" any number of
// levels. So "deer_vla" is only /deer_vla, never /ns/deer_vla.
func nodeNamePattern(node string) (*regexp.Regexp, error) {
	if !strings.HasPrefix(node, "/") {
		node = "/" + node
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(node); i++ {
		switch {
		case strings.HasPrefix(node[i:], "/**"):
			b.WriteString(`(/\w+)*`)
			i += 2
		case strings.HasPrefix(node[i:], "/*"):
			b.WriteString(`(/\w+)`)
			i++
		case node[i] == '/' || node[i] == '_' || node[i] >= '0' && node[i] <= '9' ||
			node[i] >= 'a' && node[i] <= 'z' || node[i] >= 'A' && node[i] <= 'Z':
			b.WriteByte(node[i])
		default:
			return nil, fmt.Errorf("%q is not a node name (letters, digits, _ and /, with * or ** as wildcards)", node)
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// AddArg adds a `-p [node:]name:=value` argument as rcl does: the value is
// read as YAML (7 is an integer, 7.0 a double, [1, 2] an array), and
// without a node prefix it goes to the "/**" entry, so it applies to every
// node.
func (o *Overrides) AddArg(arg string) error {
	lhs, text, ok := strings.Cut(arg, ":=")
	if !ok || lhs == "" {
		return fmt.Errorf("control: parameter %q: want name:=value", arg)
	}
	node, name, ok := strings.Cut(lhs, ":")
	if !ok {
		node, name = "/**", lhs
	}
	v, err := argNode(text)
	if err != nil {
		return fmt.Errorf("control: parameter %s: %w", name, err)
	}
	e, err := o.entry(node)
	if err != nil {
		return fmt.Errorf("control: parameter %q: %w", arg, err)
	}
	e.set(name, v, "-p "+arg)
	return nil
}

// argNode parses the value of a -p argument; an empty one is "".
func argNode(text string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str"}, nil
	}
	return doc.Content[0], nil
}

// For returns the values for the node whose fully qualified name is fqn
// (such as "/deer_vla" or "/robot1/deer_vla"), and the overrides it
// ignored because it declares no such parameter: rclcpp ignores those too,
// so one bringup file can serve many nodes. Values are typed as rcl types
// them; Params.With checks them against the descriptors.
func (o *Overrides) For(fqn string) (vals map[string]Value, ignored []string, err error) {
	vals, _, ignored, err = o.forNode(fqn)
	return vals, ignored, err
}

// forNode is For, with where each value came from.
func (o *Overrides) forNode(fqn string) (vals map[string]Value, where map[string]string, ignored []string, err error) {
	vals, where = map[string]Value{}, map[string]string{}
	for _, e := range o.entries {
		if !e.match.MatchString(fqn) {
			continue
		}
		for _, name := range e.names {
			if _, ok := Describe(name); !ok {
				msg := fmt.Sprintf("%s (%s)", name, e.where[name])
				if !slices.Contains(ignored, msg) {
					ignored = append(ignored, msg)
				}
				continue
			}
			v, err := yamlValue(e.values[name])
			if err != nil {
				return nil, nil, ignored, fmt.Errorf("control: %s: parameter %s: %w", e.where[name], name, err)
			}
			vals[name], where[name] = v, e.where[name]
		}
	}
	return vals, where, ignored, nil
}

// LoadParamsFile returns the values that the params file at path gives the
// node named fqn (see Overrides.For); it skips parameters the node does not
// declare.
func LoadParamsFile(path, fqn string) (map[string]Value, error) {
	var o Overrides
	if err := o.AddFile(path); err != nil {
		return nil, err
	}
	vals, _, err := o.For(fqn)
	return vals, err
}

// ParseParamArg parses a `-p name:=value` argument as ROS does: the value
// is read as YAML, so 7 is an integer, 7.0 a double, [1, 2] an array.
func ParseParamArg(arg string) (string, Value, error) {
	name, text, ok := strings.Cut(arg, ":=")
	if !ok || name == "" {
		return "", Value{}, fmt.Errorf("control: parameter %q: want name:=value", arg)
	}
	n, err := argNode(text)
	if err != nil {
		return "", Value{}, fmt.Errorf("control: parameter %s: %w", name, err)
	}
	v, err := yamlValue(n)
	if err != nil {
		return "", Value{}, fmt.Errorf("control: parameter %s: %w", name, err)
	}
	return name, v, nil
}
