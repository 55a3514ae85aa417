package control

import (
	"fmt"
	"strings"

	"github.com/deervla/deer_vla/internal/limitread"
	"gopkg.in/yaml.v3"
)

// NodeName is the node's default name; executables and launch files use it.
const NodeName = "deer_vla"

// MaxParamsFileBytes is the largest --params-file read.
const MaxParamsFileBytes = 1 << 20

// LoadParamsFile reads the ROS 2 parameter YAML at path (the format of
// `--params-file`: node keys, then ros__parameters) and returns the values
// for the node whose fully qualified name is fqn (such as "/deer_vla" or
// "/robot1/deer_vla"). Keys that apply are "/**", the node's name, and its
// fully qualified name, with or without the leading slash; later, more
// specific keys win. Nested maps become dotted names (budget: {avg_gflops:
// 1} is budget.avg_gflops). Values are checked against the descriptors.
func LoadParamsFile(path, fqn string) (map[string]Value, error) {
	data, err := limitread.File(path, MaxParamsFileBytes)
	if err != nil {
		return nil, fmt.Errorf("control: params file: %w", err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("control: params file %s: %w", path, err)
	}
	base := fqn[strings.LastIndex(fqn, "/")+1:]
	out := map[string]Value{}
	for _, key := range []string{"/**", base, "/" + base, strings.TrimPrefix(fqn, "/"), fqn} {
		node, ok := doc[key]
		if !ok {
			continue
		}
		var section struct {
			Params yaml.Node `yaml:"ros__parameters"`
		}
		if err := node.Decode(&section); err != nil || section.Params.Kind == 0 {
			return nil, fmt.Errorf("control: params file %s:%d: %q has no ros__parameters map", path, node.Line, key)
		}
		if err := flatten(&section.Params, "", out); err != nil {
			return nil, fmt.Errorf("control: params file %s: %w", path, err)
		}
	}
	for name, v := range out {
		d, ok := Describe(name)
		if !ok {
			return nil, fmt.Errorf("control: params file %s: %w", path, &ParamError{name, v, "no such parameter"})
		}
		if d.Kind == KindBool && v.Kind == KindString {
			// rcl reads YAML 1.1 booleans that yaml.v3 leaves as strings.
			switch strings.ToLower(v.String) {
			case "yes", "on", "true":
				out[name] = Bool(true)
			case "no", "off", "false":
				out[name] = Bool(false)
			}
		}
	}
	return out, nil
}

// flatten turns a YAML map into dotted parameter names and values.
func flatten(n *yaml.Node, prefix string, out map[string]Value) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: parameters must be a map", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := prefix + n.Content[i].Value
		v := n.Content[i+1]
		if v.Kind == yaml.MappingNode {
			if err := flatten(v, name+".", out); err != nil {
				return err
			}
			continue
		}
		val, err := yamlValue(v)
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", v.Line, name, err)
		}
		out[name] = val
	}
	return nil
}

// yamlValue converts a scalar or a sequence of numbers to a Value, typed
// by its YAML tag as rcl does: 7 is an integer, 7.0 a double.
func yamlValue(n *yaml.Node) (Value, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return Bool(b), err
		case "!!int":
			var i int64
			err := n.Decode(&i)
			return Int(i), err
		case "!!float":
			var f float64
			err := n.Decode(&f)
			return Double(f), err
		default:
			return String(n.Value), nil
		}
	case yaml.SequenceNode:
		vals := make([]float64, 0, len(n.Content))
		for _, c := range n.Content {
			var f float64
			if c.Tag != "!!int" && c.Tag != "!!float" || c.Decode(&f) != nil {
				return Value{}, fmt.Errorf("only arrays of numbers are supported, got %q", c.Value)
			}
			vals = append(vals, f)
		}
		return Doubles(vals), nil
	}
	return Value{}, fmt.Errorf("unsupported YAML value")
}

// ParseParamArg parses a `-p name:=value` argument as ROS does: the value
// is read as YAML, so 7 is an integer, 7.0 a double, [1, 2] an array.
func ParseParamArg(arg string) (string, Value, error) {
	name, text, ok := strings.Cut(arg, ":=")
	if !ok || name == "" {
		return "", Value{}, fmt.Errorf("control: parameter %q: want name:=value", arg)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		return "", Value{}, fmt.Errorf("control: parameter %s: %w", name, err)
	}
	if n.Kind == 0 { // an empty value
		return name, String(""), nil
	}
	v, err := yamlValue(n.Content[0])
	if err != nil {
		return "", Value{}, fmt.Errorf("control: parameter %s: %w", name, err)
	}
	return name, v, nil
}
