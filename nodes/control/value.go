package control

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is a parameter's type, as rcl_interfaces/ParameterType names them.
type Kind int

// Parameter kinds. Values match rcl_interfaces/msg/ParameterType.
const (
	KindBool        Kind = 1
	KindInt         Kind = 2
	KindDouble      Kind = 3
	KindString      Kind = 4
	KindIntArray    Kind = 7
	KindDoubleArray Kind = 8
)

func (k Kind) String() string {
	switch k {
	case KindBool:
		return "bool"
	case KindInt:
		return "integer"
	case KindDouble:
		return "double"
	case KindString:
		return "string"
	case KindIntArray:
		return "integer array"
	case KindDoubleArray:
		return "double array"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Value is one parameter value; Kind says which field holds it.
type Value struct {
	Kind    Kind
	Bool    bool
	Int     int64
	Double  float64
	String  string
	Ints    []int64
	Doubles []float64
}

// Bool, Int, Double, String and Doubles make Values.
func Bool(b bool) Value         { return Value{Kind: KindBool, Bool: b} }
func Int(i int64) Value         { return Value{Kind: KindInt, Int: i} }
func Double(d float64) Value    { return Value{Kind: KindDouble, Double: d} }
func String(s string) Value     { return Value{Kind: KindString, String: s} }
func Doubles(d []float64) Value { return Value{Kind: KindDoubleArray, Doubles: d} }

// Format renders the value as ros2 param get prints it.
func (v Value) Format() string {
	switch v.Kind {
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindDouble:
		return strconv.FormatFloat(v.Double, 'g', -1, 64)
	case KindString:
		return strconv.Quote(v.String)
	case KindIntArray:
		parts := make([]string, len(v.Ints))
		for i, d := range v.Ints {
			parts[i] = strconv.FormatInt(d, 10)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case KindDoubleArray:
		parts := make([]string, len(v.Doubles))
		for i, d := range v.Doubles {
			parts[i] = strconv.FormatFloat(d, 'g', -1, 64)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "(not set)"
}

// coerce converts v to kind k where ROS users expect it: an integer given
// for a double (`ros2 param set x 7`) is promoted, as is an integer array
// for a double array (`ros2 param set x "[1, 2]"`). Anything else of the
// wrong kind is an error.
func coerce(v Value, k Kind) (Value, error) {
	if v.Kind == k {
		return v, nil
	}
	if v.Kind == KindInt && k == KindDouble {
		return Double(float64(v.Int)), nil
	}
	if v.Kind == KindIntArray && k == KindDoubleArray {
		d := make([]float64, len(v.Ints))
		for i, x := range v.Ints {
			d[i] = float64(x)
		}
		return Doubles(d), nil
	}
	return Value{}, fmt.Errorf("wants a %s, got a %s (%s)", k, v.Kind, v.Format())
}
