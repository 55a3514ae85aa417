package msgs

import (
	_ "embed" // the deer_vla_msgs .msg files
	"sort"
	"strings"
)

// The deer_vla_msgs definitions are the .msg files of the ROS interface
// package in this directory, embedded verbatim (comments included).
var (
	//go:embed deer_vla_msgs/msg/Action.msg
	actionMsg string
	//go:embed deer_vla_msgs/msg/StepStats.msg
	stepStatsMsg string
)

// msgTexts maps "pkg/Type" to the .msg text of each type this package
// knows. The upstream ROS types are given by their fields only; the fields
// are what decoders such as Foxglove's use.
var msgTexts = map[string]string{
	"builtin_interfaces/Time": "int32 sec\nuint32 nanosec\n",
	"std_msgs/Header":         "builtin_interfaces/Time stamp\nstring frame_id\n",
	"std_msgs/String":         "string data\n",
	"sensor_msgs/Image": "std_msgs/Header header\n" +
		"uint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n",
	"sensor_msgs/CompressedImage": "std_msgs/Header header\nstring format\nuint8[] data\n",
	"deer_vla_msgs/Action":        actionMsg,
	"deer_vla_msgs/StepStats":     stepStatsMsg,
}

// definitionDelimiter is the line of 80 '=' that separates definitions.
var definitionDelimiter = strings.Repeat("=", 80) + "\n"

// Definition returns the complete ros2msg definition of typeName (such as
// "sensor_msgs/msg/Image", or the short "sensor_msgs/Image"), the text
// rosbag2 stores as an MCAP schema with encoding "ros2msg": the type's own
// .msg text first, then, for each type it depends on (recursively, each
// once, in rosbag2's order), a newline, a line of 80 '=', a line
// "MSG: pkg/Type" and that type's .msg text. It returns false for types
// this package does not know.
func Definition(typeName string) (string, bool) {
	key, ok := shortName(typeName)
	if !ok {
		return "", false
	}
	if _, ok := msgTexts[key]; !ok {
		return "", false
	}
	var b strings.Builder
	seen := map[string]bool{}
	appendDefinition(&b, key, seen)
	return b.String(), true
}

// appendDefinition writes the text of key and its unseen dependencies the
// way rosbag2's MessageDefinitionCache::get_full_text does: depth first,
// dependencies of one type in sorted order.
func appendDefinition(b *strings.Builder, key string, seen map[string]bool) {
	text := msgTexts[key]
	b.WriteString(text)
	pkg, _, _ := strings.Cut(key, "/")
	for _, dep := range msgDependencies(text, pkg) {
		if seen[dep] {
			continue
		}
		seen[dep] = true
		b.WriteString("\n")
		b.WriteString(definitionDelimiter)
		b.WriteString("MSG: ")
		b.WriteString(dep)
		b.WriteString("\n")
		depKey, _ := shortName(dep)
		appendDefinition(b, depKey, seen)
	}
}

// shortName turns "pkg/msg/Type" or "pkg/Type" into "pkg/Type".
func shortName(typeName string) (string, bool) {
	parts := strings.Split(typeName, "/")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return typeName, true
	case len(parts) == 3 && parts[0] != "" && parts[1] == "msg" && parts[2] != "":
		return parts[0] + "/" + parts[2], true
	}
	return "", false
}

var primitiveTypes = map[string]bool{
	"bool": true, "byte": true, "char": true, "float32": true, "float64": true,
	"int8": true, "uint8": true, "int16": true, "uint16": true, "int32": true,
	"uint32": true, "int64": true, "uint64": true, "string": true, "wstring": true,
}

// msgDependencies returns the sorted, distinct non-primitive field types of
// a .msg text, as written ("std_msgs/Header"), with types of the same
// package qualified by pkg.
func msgDependencies(text, pkg string) []string {
	set := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		typ := fields[0]
		if i := strings.IndexAny(typ, "[<"); i >= 0 {
			typ = typ[:i]
		}
		if primitiveTypes[typ] {
			continue
		}
		if !strings.Contains(typ, "/") {
			typ = pkg + "/" + typ
		}
		set[typ] = true
	}
	deps := make([]string, 0, len(set))
	for d := range set {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	return deps
}
