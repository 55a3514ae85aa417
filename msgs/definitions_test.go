package msgs

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

var delim = strings.Repeat("=", 80) + "\n"

func TestDefinition(t *testing.T) {
	timeText := "int32 sec\nuint32 nanosec\n"
	headerText := "builtin_interfaces/Time stamp\nstring frame_id\n"
	headerWithDeps := headerText + "\n" + delim + "MSG: builtin_interfaces/Time\n" + timeText
	tests := []struct {
		name     string
		typeName string
		want     string
	}{
		{"time has no dependencies", TimeType, timeText},
		{"string", StringType, "string data\n"},
		{"header", HeaderType, headerWithDeps},
		{"short type name", "std_msgs/Header", headerWithDeps},
		{
			"image",
			ImageType,
			"std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\n" +
				"uint8 is_bigendian\nuint32 step\nuint8[] data\n" +
				"\n" + delim + "MSG: std_msgs/Header\n" + headerWithDeps,
		},
		{
			"compressed image",
			CompressedImageType,
			"std_msgs/Header header\nstring format\nuint8[] data\n" +
				"\n" + delim + "MSG: std_msgs/Header\n" + headerWithDeps,
		},
		{
			"action keeps the .msg comments",
			ActionType,
			actionMsg + "\n" + delim + "MSG: std_msgs/Header\n" + headerWithDeps,
		},
		{
			"step stats",
			StepStatsType,
			stepStatsMsg + "\n" + delim + "MSG: std_msgs/Header\n" + headerWithDeps,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Definition(tc.typeName)
			if !ok {
				t.Fatalf("Definition(%q) not found", tc.typeName)
			}
			if got != tc.want {
				t.Fatalf("Definition(%q) =\n%s\nwant\n%s", tc.typeName, got, tc.want)
			}
		})
	}
	for _, unknown := range []string{"", "geometry_msgs/msg/Twist", "sensor_msgs/srv/Image", "Image", "a/b/c/d"} {
		if _, ok := Definition(unknown); ok {
			t.Errorf("Definition(%q) found a definition", unknown)
		}
	}
}

func TestEveryTypeHasDefinitionAndNew(t *testing.T) {
	for _, typeName := range []string{TimeType, HeaderType, StringType, ImageType, CompressedImageType, ActionType, StepStatsType} {
		if _, ok := Definition(typeName); !ok {
			t.Errorf("no definition for %s", typeName)
		}
		m, ok := New(typeName)
		if !ok {
			t.Errorf("New(%q) failed", typeName)
			continue
		}
		if m.TypeName() != typeName {
			t.Errorf("New(%q).TypeName() = %q", typeName, m.TypeName())
		}
	}
}

// TestStructsMatchMsgFiles checks that each Go struct has the fields of its
// .msg definition, in order and with matching types, so the CDR layout
// cannot drift from the interface package.
func TestStructsMatchMsgFiles(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
	}{
		{"time", &Time{}},
		{"header", &Header{}},
		{"string", &String{}},
		{"image", &Image{}},
		{"compressed image", &CompressedImage{}},
		{"action", &Action{}},
		{"step stats", &StepStats{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, _ := shortName(tc.msg.TypeName())
			fields := msgFields(msgTexts[key])
			typ := reflect.TypeOf(tc.msg).Elem()
			if typ.NumField() != len(fields) {
				t.Fatalf("%s has %d fields, %s declares %d", typ, typ.NumField(), key, len(fields))
			}
			for i, f := range fields {
				sf := typ.Field(i)
				if got, want := strings.ToLower(sf.Name), strings.ReplaceAll(f.name, "_", ""); got != want {
					t.Errorf("field %d: Go %s, .msg %s", i, sf.Name, f.name)
				}
				if got, want := sf.Type.String(), goType(f.typ); got != want {
					t.Errorf("field %s: Go type %s, .msg %s wants %s", f.name, got, f.typ, want)
				}
			}
		})
	}
}

type msgField struct{ typ, name string }

func msgFields(text string) []msgField {
	var out []msgField
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) >= 2 {
			out = append(out, msgField{typ: f[0], name: f[1]})
		}
	}
	return out
}

// goType maps a .msg field type to the Go type used in this package.
func goType(msgType string) string {
	base, suffix := msgType, ""
	if i := strings.IndexByte(msgType, '['); i >= 0 {
		base, suffix = msgType[:i], msgType[i:]
	}
	switch base {
	case "std_msgs/Header":
		base = "msgs.Header"
	case "builtin_interfaces/Time":
		base = "msgs.Time"
	default:
		if !unicode.IsLower(rune(base[0])) {
			base = "msgs." + base
		}
	}
	switch {
	case suffix == "[]":
		if base == "uint8" {
			return "[]uint8"
		}
		return "[]" + base
	case suffix != "":
		return suffix + base
	}
	return base
}
