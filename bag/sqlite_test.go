package bag

import (
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/msgs"
)

// createDB3 writes a .db3 file with the schema Humble's rosbag2 sqlite3
// plugin creates (sqlite_storage.cpp) and the given topics and messages.
// Topic ids are 1-based in the order given.
func createDB3(t testing.TB, path string, topics []TopicInfo, ms []written) {
	t.Helper()
	createDB3Func(t, path, topics, len(ms), func(i int) written { return ms[i] })
}

// createDB3Func is createDB3 with the n messages made by msg on demand.
func createDB3Func(t testing.TB, path string, topics []TopicInfo, n int, msg func(i int) written) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		"CREATE TABLE schema(schema_version INTEGER PRIMARY KEY,ros_distro TEXT NOT NULL);",
		"CREATE TABLE metadata(id INTEGER PRIMARY KEY,metadata_version INTEGER NOT NULL,metadata TEXT NOT NULL);",
		"CREATE TABLE topics(id INTEGER PRIMARY KEY,name TEXT NOT NULL,type TEXT NOT NULL," +
			"serialization_format TEXT NOT NULL,offered_qos_profiles TEXT NOT NULL);",
		"CREATE TABLE messages(id INTEGER PRIMARY KEY,topic_id INTEGER NOT NULL,timestamp INTEGER NOT NULL, data BLOB NOT NULL);",
		"CREATE INDEX timestamp_idx ON messages (timestamp ASC);",
		"INSERT INTO schema (schema_version, ros_distro) VALUES (3, 'humble');",
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]int{}
	for i, tp := range topics {
		ids[tp.Name] = i + 1
		if _, err := db.Exec("INSERT INTO topics (name, type, serialization_format, offered_qos_profiles) VALUES (?, ?, ?, ?)",
			tp.Name, tp.Type, tp.SerializationFormat, tp.OfferedQoSProfiles); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := msg(i)
		id, ok := ids[m.topic]
		if !ok {
			id = 99 // a topic id the topics table does not have
		}
		if _, err := tx.Exec("INSERT INTO messages (timestamp, topic_id, data) VALUES (?, ?, ?)", m.nanos, id, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

var sampleTopics = []TopicInfo{
	{Name: "/instruction", Type: msgs.StringType, SerializationFormat: "cdr", MessageCount: 1, OfferedQoSProfiles: QoS{Durability: DurabilityTransientLocal}.profilesYAML()},
	{Name: "/camera/image_raw", Type: msgs.ImageType, SerializationFormat: "cdr", MessageCount: 5, OfferedQoSProfiles: QoS{}.profilesYAML()},
	{Name: "/action", Type: msgs.ActionType, SerializationFormat: "cdr", MessageCount: 5, OfferedQoSProfiles: QoS{}.profilesYAML()},
}

func TestSQLite(t *testing.T) {
	ms := sampleMessages(t)
	dir := filepath.Join(t.TempDir(), "humble_bag")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db3 := filepath.Join(dir, "humble_bag_0.db3")
	createDB3(t, db3, sampleTopics, ms) // inserted in write order, not log-time order
	meta := "rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: sqlite3\n" +
		"  relative_file_paths:\n    - humble_bag_0.db3\n  compression_format: \"\"\n  compression_mode: \"\"\n"
	if err := os.WriteFile(filepath.Join(dir, MetadataFile), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	want := byLogTime(ms)
	for _, path := range []string{dir, db3} {
		got, topics := readAll(t, path)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Open(%s) read\n%v\nwant\n%v", path, got, want)
		}
		if !reflect.DeepEqual(topics, sampleTopics) {
			t.Fatalf("Topics() of %s =\n%+v\nwant\n%+v", path, topics, sampleTopics)
		}
	}

	var filtered []written
	for _, m := range want {
		if m.topic == "/camera/image_raw" {
			filtered = append(filtered, m)
		}
	}
	got, _ := readAll(t, db3, WithTopics("/camera/image_raw"))
	if !reflect.DeepEqual(got, filtered) {
		t.Fatalf("filtered read\n%v\nwant\n%v", got, filtered)
	}
	if got, _ := readAll(t, db3, WithTopics("/not/there")); len(got) != 0 {
		t.Fatalf("filter on a missing topic read %d messages", len(got))
	}
}

// TestSQLiteMixedWithMCAP reads a folder whose files use both storages.
func TestSQLiteMixedWithMCAP(t *testing.T) {
	ms := sampleMessages(t)
	dir := t.TempDir()
	createDB3(t, filepath.Join(dir, "mixed_0.db3"), sampleTopics, ms[:5])
	mc := writeBag(t, filepath.Join(t.TempDir(), "m"), WriterOptions{}, ms[5:])
	copyFile(t, mcapFile(t, mc), filepath.Join(dir, "mixed_1.mcap"))
	got, _ := readAll(t, dir) // no metadata.yaml: every .mcap and .db3 file
	if !reflect.DeepEqual(got, byLogTime(ms)) {
		t.Fatalf("mixed read\n%v\nwant\n%v", got, byLogTime(ms))
	}
}

func TestSQLiteErrors(t *testing.T) {
	tmp := t.TempDir()
	unknownTopic := filepath.Join(tmp, "unknown_topic.db3")
	createDB3(t, unknownTopic, sampleTopics[:1], []written{
		{topic: "/instruction", nanos: 10, data: []byte{0, 1, 0, 0}},
		{topic: "/ghost", nanos: 20, data: []byte{0, 1, 0, 0}},
	})
	notDB := filepath.Join(tmp, "text.db3")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyDB := filepath.Join(tmp, "empty.db3")
	db, err := sql.Open("sqlite", emptyDB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE other(x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	t.Run("message with an unknown topic id", func(t *testing.T) {
		r, err := Open(unknownTopic)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var m Message
		if err := r.Next(&m); err != nil {
			t.Fatal(err)
		}
		err = r.Next(&m)
		want := "bag: " + unknownTopic + ": message at timestamp 20 refers to topic id 99, which is not in the topics table"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
	})
	for _, tc := range []struct {
		name, path, want string
	}{
		{"not a database", notDB, "bag: " + notDB + ": not a rosbag2 sqlite3 file: "},
		{"no rosbag2 tables", emptyDB, "bag: " + emptyDB + ": not a rosbag2 sqlite3 file: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(tc.path)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant prefix %s", err, tc.want)
			}
		})
	}
}
