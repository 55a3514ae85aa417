package bag

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver
)

// sqliteSource reads one rosbag2 sqlite3 file (.db3) with a cursor over
// the messages table in timestamp order; only the current row is in
// memory.
type sqliteSource struct {
	path      string
	db        *sql.DB
	rows      *sql.Rows
	byID      map[int64]*TopicInfo
	topicList []TopicInfo
	buf       []byte
	lastTime  int64
	read      bool
}

// sqliteDSN returns a read-only SQLite URI for path, escaping the
// characters that URIs give a meaning.
func sqliteDSN(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	return "file:" + esc + "?mode=ro"
}

func openSQLite(path string, topics []string) (_ *sqliteSource, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("bag: %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &sqliteSource{path: path, db: db, byID: map[int64]*TopicInfo{}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	ids, err := s.readTopics()
	if err != nil {
		return nil, fmt.Errorf("bag: %s: not a rosbag2 sqlite3 file: %w", path, err)
	}
	if err := s.countMessages(); err != nil {
		return nil, fmt.Errorf("bag: %s: counting messages: %w", path, err)
	}

	// The blob is selected only when it is within the limit, so an
	// over-limit row is refused before the driver allocates it.
	query := fmt.Sprintf("SELECT timestamp, topic_id, length(data), CASE WHEN length(data) <= %d THEN data END FROM messages", maxMessageBytes)
	var args []any
	if len(topics) > 0 {
		var marks []string
		for _, name := range topics {
			if id, ok := ids[name]; ok {
				marks = append(marks, "?")
				args = append(args, id)
			}
		}
		if len(marks) == 0 {
			query += " WHERE 0"
		} else {
			query += " WHERE topic_id IN (" + strings.Join(marks, ",") + ")"
		}
	}
	query += " ORDER BY timestamp, id"
	s.rows, err = db.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("bag: %s: querying messages: %w", path, err)
	}
	return s, nil
}

// readTopics loads the topics table, with offered_qos_profiles when the
// schema has it (rosbag2 since Foxy), and returns name -> id.
func (s *sqliteSource) readTopics() (map[string]int64, error) {
	rows, err := s.db.Query("SELECT id, name, type, serialization_format, offered_qos_profiles FROM topics ORDER BY id")
	withQoS := err == nil
	if err != nil {
		rows, err = s.db.Query("SELECT id, name, type, serialization_format FROM topics ORDER BY id")
		if err != nil {
			return nil, err
		}
	}
	defer rows.Close()
	ids := map[string]int64{}
	var order []int64
	for rows.Next() {
		var id int64
		var t TopicInfo
		var qos sql.NullString
		dest := []any{&id, &t.Name, &t.Type, &t.SerializationFormat}
		if withQoS {
			dest = append(dest, &qos)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		t.OfferedQoSProfiles = qos.String
		ids[t.Name] = id
		order = append(order, id)
		s.topicList = append(s.topicList, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range order {
		s.byID[id] = &s.topicList[i]
	}
	return ids, nil
}

func (s *sqliteSource) countMessages() error {
	rows, err := s.db.Query("SELECT topic_id, COUNT(*) FROM messages GROUP BY topic_id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if t, ok := s.byID[id]; ok {
			t.MessageCount = n
		}
	}
	return rows.Err()
}

func (s *sqliteSource) topics() []TopicInfo {
	// A copy, so that callers cannot change the entries byID points to.
	out := make([]TopicInfo, len(s.topicList))
	copy(out, s.topicList)
	return out
}

func (s *sqliteSource) next(m *Message) error {
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			return s.wrap(err)
		}
		return io.EOF
	}
	var ts, topicID int64
	var size sql.NullInt64
	var data sql.RawBytes
	if err := s.rows.Scan(&ts, &topicID, &size, &data); err != nil {
		return s.wrap(err)
	}
	t, ok := s.byID[topicID]
	if !ok {
		return fmt.Errorf("bag: %s: message at timestamp %d refers to topic id %d, which is not in the topics table",
			s.path, ts, topicID)
	}
	if size.Int64 > maxMessageBytes {
		return fmt.Errorf("bag: %s: message at timestamp %d on topic %q is %d bytes, more than the %d-byte limit",
			s.path, ts, t.Name, size.Int64, maxMessageBytes)
	}
	s.buf = append(s.buf[:0], data...)
	m.Topic, m.Type, m.LogTimeNanos, m.Data = t.Name, t.Type, ts, s.buf
	s.lastTime, s.read = ts, true
	return nil
}

func (s *sqliteSource) wrap(err error) error {
	if !s.read {
		return fmt.Errorf("bag: %s: reading the first message: %w", s.path, err)
	}
	return fmt.Errorf("bag: %s: reading the message after timestamp %d: %w", s.path, s.lastTime, err)
}

func (s *sqliteSource) close() error {
	var errs []error
	if s.rows != nil {
		errs = append(errs, s.rows.Close())
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}
