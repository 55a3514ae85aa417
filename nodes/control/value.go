package control

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is a parameter's type, as rcl_interfaces/ParameterType names them.
type Kind int

// Parameter kinds. Values match rcl_interfaces/msg/ParameterType. The node
// declares no byte, bool or string arrays, but clients send them (`ros2
// param set x "[]"` sends an empty bool array), so a Value can hold them.
const (
	KindBool        Kind = 1
	KindInt         Kind = 2
	KindDouble      Kind = 3
	KindString      Kind = 4
	KindByteArray   Kind = 5
	KindBoolArray   Kind = 6
	KindIntArray    Kind = 7
	KindDoubleArray Kind = 8
	KindStringArray Kind = 9
)

var kindNames = map[Kind]string{
	KindBool: "bool", KindInt: "integer", KindDouble: "double", KindString: "string",
	KindByteArray: "byte array", KindBoolArray: "bool array", KindIntArray: "integer array",
	KindDoubleArray: "double array", KindStringArray: "string array",
}

func (k Kind) String() string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	if k == 0 {
		return "unset value"
	}
	return fmt.Sprintf("unknown type %d", int(k))
}

// withArticle is "a double", "an integer": for messages.
func (k Kind) withArticle() string {
	s := k.String()
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// isArray reports whether k is one of the array kinds.
func (k Kind) isArray() bool { return k >= KindByteArray && k <= KindStringArray }

// Value is one parameter value; Kind says which field holds it.
type Value struct {
	Kind    Kind
	Bool    bool
	Int     int64
	Double  float64
	String  string
	Bytes   []byte
	Bools   []bool
	Ints    []int64
	Doubles []float64
	Strings []string
}

// Bool, Int, Double, String and Doubles make Values.
func Bool(b bool) Value         { return Value{Kind: KindBool, Bool: b} }
func Int(i int64) Value         { return Value{Kind: KindInt, Int: i} }
func Double(d float64) Value    { return Value{Kind: KindDouble, Double: d} }
func String(s string) Value     { return Value{Kind: KindString, String: s} }
func Doubles(d []float64) Value { return Value{Kind: KindDoubleArray, Doubles: d} }

// arrayLen is the number of elements of an array value.
func (v Value) arrayLen() int {
	switch v.Kind {
	case KindByteArray:
		return len(v.Bytes)
	case KindBoolArray:
		return len(v.Bools)
	case KindIntArray:
		return len(v.Ints)
	case KindDoubleArray:
		return len(v.Doubles)
	case KindStringArray:
		return len(v.Strings)
	}
	return 0
}

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
	case KindByteArray:
		return formatList(v.Bytes, func(b byte) string { return strconv.Itoa(int(b)) })
	case KindBoolArray:
		return formatList(v.Bools, strconv.FormatBool)
	case KindIntArray:
		return formatList(v.Ints, func(i int64) string { return strconv.FormatInt(i, 10) })
	case KindDoubleArray:
		return formatList(v.Doubles, func(d float64) string { return strconv.FormatFloat(d, 'g', -1, 64) })
	case KindStringArray:
		return formatList(v.Strings, strconv.Quote)
	}
	return "(not set)"
}

func formatList[T any](xs []T, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// coerce converts v to kind k where ROS users expect it: an integer given
// for a double (`ros2 param set x 7`) is promoted, as is an integer array
// for a double array (`ros2 param set x "[1, 2]"`), and an empty array of
// any type is an empty array of k (`ros2 param set x "[]"` sends an empty
// bool array: the CLI cannot tell the type of an empty list). Anything else
// of the wrong kind is an error.
func coerce(v Value, k Kind) (Value, error) {
	switch {
	case v.Kind == k:
		return v, nil
	case v.Kind == KindInt && k == KindDouble:
		return Double(float64(v.Int)), nil
	case v.Kind == KindIntArray && k == KindDoubleArray:
		d := make([]float64, len(v.Ints))
		for i, x := range v.Ints {
			d[i] = float64(x)
		}
		return Doubles(d), nil
	case v.Kind.isArray() && k.isArray() && v.arrayLen() == 0:
		return Value{Kind: k}, nil
	}
	return Value{}, fmt.Errorf("expects %s, got %s", k.withArticle(), v.Kind.withArticle())
}

// formatNumber writes a range bound without exponents: 1000000, 0.5.
func formatNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
