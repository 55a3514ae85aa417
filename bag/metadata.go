package bag

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/deervla/deer_vla/internal/limitread"
	"gopkg.in/yaml.v3"
)

// MetadataFile is the name of the rosbag2 metadata file in a bag folder.
const MetadataFile = "metadata.yaml"

// MaxMetadataBytes is the largest metadata.yaml read; rosbag2 writes a few
// KB per topic and file.
const MaxMetadataBytes = 16 << 20

// metadata holds the fields of metadata.yaml this package reads. Fields of
// later rosbag2 versions (custom_data, ros_distro, type hashes) are ignored.
type metadata struct {
	Info struct {
		Version           int    `yaml:"version"`
		StorageIdentifier string `yaml:"storage_identifier"`
		MessageCount      int64  `yaml:"message_count"`
		Topics            []struct {
			TopicMetadata struct {
				Name                string   `yaml:"name"`
				Type                string   `yaml:"type"`
				SerializationFormat string   `yaml:"serialization_format"`
				OfferedQoSProfiles  yamlText `yaml:"offered_qos_profiles"`
			} `yaml:"topic_metadata"`
			MessageCount int64 `yaml:"message_count"`
		} `yaml:"topics_with_message_count"`
		CompressionFormat string   `yaml:"compression_format"`
		CompressionMode   string   `yaml:"compression_mode"`
		RelativeFilePaths []string `yaml:"relative_file_paths"`
	} `yaml:"rosbag2_bagfile_information"`
}

// yamlText is a string field that also accepts a YAML collection, kept as
// its YAML text: rosbag2 writes offered_qos_profiles as a string holding
// YAML, but hand-made files sometimes inline the list.
type yamlText string

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *yamlText) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = yamlText(n.Value)
		return nil
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	*t = yamlText(strings.TrimSuffix(string(b), "\n"))
	return nil
}

// readMetadata parses path, a metadata.yaml file.
func readMetadata(path string) (*metadata, error) {
	data, err := limitread.File(path, MaxMetadataBytes)
	if err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	var m metadata
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("bag: %s: %w", path, err)
	}
	if m.Info.Version == 0 {
		return nil, fmt.Errorf("bag: %s: no rosbag2_bagfile_information.version (not a rosbag2 metadata file)", path)
	}
	if m.Info.CompressionMode != "" && !strings.EqualFold(m.Info.CompressionMode, "none") {
		return nil, fmt.Errorf("bag: %s: compressed bags are not supported (compression_mode %q, compression_format %q); decompress with `ros2 bag convert`",
			path, m.Info.CompressionMode, m.Info.CompressionFormat)
	}
	if len(m.Info.RelativeFilePaths) == 0 {
		return nil, fmt.Errorf("bag: %s: relative_file_paths lists no storage files", path)
	}
	return &m, nil
}

// fileSummary is one entry of the files list of metadata.yaml.
type fileSummary struct {
	path                 string
	startNanos, endNanos int64
	count                uint64
}

// topicSummary is one entry of topics_with_message_count.
type topicSummary struct {
	name, typ, qosYAML string
	count              uint64
}

// renderMetadata writes metadata.yaml, version 5, in the layout yaml-cpp
// gives it when Humble's rosbag2 writes it (metadata_io.cpp), so that
// `ros2 bag info` and `ros2 bag play` read it.
func renderMetadata(storage string, topics []topicSummary, files []fileSummary) []byte {
	var start, end int64
	var count uint64
	first := true
	for _, f := range files {
		if f.count == 0 {
			continue
		}
		if first || f.startNanos < start {
			start = f.startNanos
		}
		if first || f.endNanos > end {
			end = f.endNanos
		}
		first = false
		count += f.count
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("rosbag2_bagfile_information:")
	p("  version: 5")
	p("  storage_identifier: %s", yamlScalar(storage))
	p("  duration:")
	p("    nanoseconds: %d", end-start)
	p("  starting_time:")
	p("    nanoseconds_since_epoch: %d", start)
	p("  message_count: %d", count)
	if len(topics) == 0 {
		p("  topics_with_message_count: []")
	} else {
		p("  topics_with_message_count:")
	}
	for _, t := range topics {
		p("    - topic_metadata:")
		p("        name: %s", yamlScalar(t.name))
		p("        type: %s", yamlScalar(t.typ))
		p("        serialization_format: cdr")
		p("        offered_qos_profiles: %s", yamlQuoted(t.qosYAML))
		p("      message_count: %d", t.count)
	}
	p(`  compression_format: ""`)
	p(`  compression_mode: ""`)
	p("  relative_file_paths:")
	for _, f := range files {
		p("    - %s", yamlScalar(f.path))
	}
	p("  files:")
	for _, f := range files {
		p("    - path: %s", yamlScalar(f.path))
		p("      starting_time:")
		p("        nanoseconds_since_epoch: %d", f.startNanos)
		p("      duration:")
		p("        nanoseconds: %d", f.endNanos-f.startNanos)
		p("      message_count: %d", f.count)
	}
	return []byte(b.String())
}

var plainScalar = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./~{}-]*$`)

// yamlScalar returns s as a plain YAML scalar when that reads back as the
// same string, else double-quoted.
func yamlScalar(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n":
		return yamlQuoted(s)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil || !plainScalar.MatchString(s) {
		return yamlQuoted(s)
	}
	return s
}

// yamlQuoted returns s as a double-quoted YAML scalar, the style yaml-cpp
// uses for offered_qos_profiles.
func yamlQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
