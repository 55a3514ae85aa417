package control

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// rclBools are the unquoted words rcl's YAML parser reads as booleans
// (rcl_yaml_param_parser), beyond YAML 1.2's true and false.
var rclBools = map[string]bool{
	"Y": true, "y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true,
	"on": true, "On": true, "ON": true,
	"N": false, "n": false, "no": false, "No": false, "NO": false, "false": false, "False": false, "FALSE": false,
	"off": false, "Off": false, "OFF": false,
}

// yamlValue converts a YAML scalar or sequence to a Value, typed as rcl
// types it: 7 is an integer, 7.0 a double, yes a bool, a quoted value
// always a string; an array holds one type (integers among doubles are
// promoted). An empty array has no type of its own; coerce gives it the
// parameter's.
func yamlValue(n *yaml.Node) (Value, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return scalarValue(n)
	case yaml.SequenceNode:
		return sequenceValue(n)
	case yaml.AliasNode:
		return yamlValue(n.Alias)
	}
	return Value{}, fmt.Errorf("expected a value or an array of values")
}

func scalarValue(n *yaml.Node) (Value, error) {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return String(n.Value), nil
	}
	if b, ok := rclBools[n.Value]; ok {
		return Bool(b), nil
	}
	switch n.Tag {
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return Value{}, fmt.Errorf("%q is not a 64-bit integer", n.Value)
		}
		return Int(i), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return Value{}, fmt.Errorf("%q is not a number", n.Value)
		}
		return Double(f), nil
	}
	return String(n.Value), nil
}

func sequenceValue(n *yaml.Node) (Value, error) {
	elems := make([]Value, len(n.Content))
	kind := Kind(0)
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return Value{}, fmt.Errorf("an array holds plain values, not arrays or maps")
		}
		v, err := scalarValue(c)
		if err != nil {
			return Value{}, err
		}
		switch {
		case kind == 0 || kind == v.Kind:
			kind = v.Kind
		case kind == KindInt && v.Kind == KindDouble || kind == KindDouble && v.Kind == KindInt:
			kind = KindDouble
		default:
			return Value{}, fmt.Errorf("an array holds one type, this one mixes %s and %s values", kind, v.Kind)
		}
		elems[i] = v
	}
	switch kind {
	case 0:
		return Value{Kind: KindDoubleArray}, nil
	case KindBool:
		return Value{Kind: KindBoolArray, Bools: mapSlice(elems, func(v Value) bool { return v.Bool })}, nil
	case KindInt:
		return Value{Kind: KindIntArray, Ints: mapSlice(elems, func(v Value) int64 { return v.Int })}, nil
	case KindDouble:
		return Doubles(mapSlice(elems, func(v Value) float64 {
			if v.Kind == KindInt {
				return float64(v.Int)
			}
			return v.Double
		})), nil
	}
	return Value{Kind: KindStringArray, Strings: mapSlice(elems, func(v Value) string { return v.String })}, nil
}

func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return slices.Clip(out)
}
