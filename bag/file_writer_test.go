package bag

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A single MCAP file holds what a bag folder holds, QoS included, and
// no folder or metadata.yaml is made.
func TestCreateFileRoundTrip(t *testing.T) {
	ms := sampleMessages(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.mcap")
	w, err := CreateFile(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, w, ms)
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s is not a file: %v", path, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%s holds %d entries, want only out.mcap", dir, len(entries))
	}
	got, topics := readAll(t, path)
	if !reflect.DeepEqual(got, byLogTime(ms)) {
		t.Fatalf("read back\n%v\nwant\n%v", got, byLogTime(ms))
	}
	q, ok, err := ParseOfferedQoS(topics[0].OfferedQoSProfiles)
	if topics[0].Name != "/instruction" || !ok || err != nil || q != (QoS{Reliability: ReliabilityReliable, Durability: DurabilityTransientLocal, Depth: 1}) {
		t.Fatalf("instruction topic %+v: QoS %+v, %v, %v", topics[0], q, ok, err)
	}

	if _, err := CreateFile(path, WriterOptions{}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("CreateFile over an existing file: %v", err)
	}
	if _, err := CreateFile(filepath.Join(dir, "bad.mcap"), WriterOptions{ChunkBytes: -1}); err == nil {
		t.Fatal("CreateFile took a negative chunk size")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.mcap")); err == nil {
		t.Fatal("a refused CreateFile left a file")
	}
}

func TestParseOfferedQoS(t *testing.T) {
	// One profile as Humble's rosbag2 writes it.
	humble := func(history, depth, rel, dur int) string {
		return fmt.Sprintf("- history: %d\n  depth: %d\n  reliability: %d\n  durability: %d\n  deadline:\n    sec: 9223372036\n    nsec: 854775807\n  liveliness: 1", history, depth, rel, dur)
	}
	tests := []struct {
		name     string
		profiles string
		want     QoS
		ok       bool
	}{
		{"none recorded", "", QoS{}, false},
		{"latched instruction", humble(1, 1, 1, 1), QoS{Reliability: ReliabilityReliable, Durability: DurabilityTransientLocal, Depth: 1}, true},
		{"sensor data", humble(1, 5, 2, 2), QoS{Reliability: ReliabilityBestEffort, Durability: DurabilityVolatile, Depth: 5}, true},
		{"history unknown", humble(3, 0, 1, 2), QoS{Reliability: ReliabilityReliable, Durability: DurabilityVolatile}, true},
		// Two publishers: the player offers what both accept.
		{"mixed publishers", humble(1, 1, 1, 1) + "\n" + humble(1, 10, 2, 1), QoS{Reliability: ReliabilityBestEffort, Durability: DurabilityTransientLocal, Depth: 10}, true},
		{"mixed durability", humble(1, 1, 1, 1) + "\n" + humble(1, 1, 1, 2), QoS{Reliability: ReliabilityReliable, Durability: DurabilityVolatile, Depth: 1}, true},
		{"policy names", "- history: keep_last\n  depth: 3\n  reliability: reliable\n  durability: transient_local", QoS{Reliability: ReliabilityReliable, Durability: DurabilityTransientLocal, Depth: 3}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ParseOfferedQoS(tc.profiles)
			if err != nil || ok != tc.ok || got != tc.want {
				t.Fatalf("ParseOfferedQoS = %+v, %v, %v; want %+v, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
	for _, bad := range []string{"- reliability: sometimes", "not: [a list", "just text"} {
		if _, _, err := ParseOfferedQoS(bad); err == nil {
			t.Errorf("ParseOfferedQoS(%q) gave no error", bad)
		}
	}
	// What the writer records reads back as the QoS it was given.
	for _, q := range []QoS{
		{Reliability: ReliabilityReliable, Durability: DurabilityVolatile},
		{Reliability: ReliabilityBestEffort, Durability: DurabilityVolatile, Depth: 7},
		{Reliability: ReliabilityReliable, Durability: DurabilityTransientLocal, Depth: 1},
	} {
		if got, _, err := ParseOfferedQoS(q.profilesYAML()); err != nil || got != q {
			t.Errorf("round trip of %+v: %+v, %v", q, got, err)
		}
	}
}
