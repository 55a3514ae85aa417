package bag

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxMessageBytes is the largest message the Reader returns: larger than
// any camera frame the node accepts (policy.MaxImageBytes). A larger one
// is taken as corruption.
const MaxMessageBytes = 1 << 29

// maxMessageBytes is MaxMessageBytes, lowered by tests.
var maxMessageBytes int64 = MaxMessageBytes

// ErrClosed is returned by methods of a Reader or Writer after Close.
var ErrClosed = errors.New("bag: closed")

// Message is one recorded message.
type Message struct {
	// Topic is the topic name, such as "/camera/image_raw".
	Topic string
	// Type is the ROS type name, such as "sensor_msgs/msg/Image".
	Type string
	// LogTimeNanos is the time the recorder received the message
	// (nanoseconds since the epoch): the rosbag2 timestamp, MCAP log time.
	LogTimeNanos int64
	// Data is the CDR-serialized message. [Reader.Next] overwrites it in
	// place, reusing its capacity: it is valid until the next call to Next
	// with the same Message. Copy it to keep it longer.
	Data []byte
}

// TopicInfo describes one topic of a bag.
type TopicInfo struct {
	// Name is the topic name.
	Name string
	// Type is the ROS type name, such as "std_msgs/msg/String".
	Type string
	// SerializationFormat is the message encoding, "cdr" for ROS 2 bags.
	SerializationFormat string
	// MessageCount is the number of messages on the topic, or -1 when the
	// storage does not record it (an MCAP file without statistics).
	MessageCount int64
	// OfferedQoSProfiles is the YAML text of the recorded publisher QoS
	// profiles, or "" when not recorded.
	OfferedQoSProfiles string
}

// Option configures [Open].
type Option func(*readOptions) error

type readOptions struct {
	topics []string
}

// WithTopics makes the Reader return only messages on the named topics.
// Naming a topic the bag does not have is not an error.
func WithTopics(names ...string) Option {
	return func(o *readOptions) error {
		for _, n := range names {
			if n == "" {
				return errors.New("bag: WithTopics: empty topic name")
			}
		}
		o.topics = append(o.topics, names...)
		return nil
	}
}

// source is one storage file being read.
type source interface {
	// topics lists the topics of the file.
	topics() []TopicInfo
	// next fills m with the next message in log-time order, with m.Data
	// owned by the source and valid until the following call, or returns
	// io.EOF.
	next(m *Message) error
	close() error
}

// cursor is a source with its next message read ahead, for merging.
type cursor struct {
	src  source
	msg  Message
	done bool
}

// Reader streams the messages of a bag in log-time order. It is not safe
// for concurrent use. Close it to release its files.
type Reader struct {
	topics  []TopicInfo
	cursors []*cursor
	pending int // cursor whose message was returned last, to advance next; -1 before the first call
	started bool
	err     error // sticky error of Next
	closed  bool
}

// Open opens a bag for reading. path is a rosbag2 folder, read through its
// metadata.yaml (storage_identifier and relative_file_paths say which
// files and storage), or a single .mcap or .db3 storage file. A folder
// without metadata.yaml is read as all its .mcap and .db3 files.
//
// Open reads the topic list and indexes but no messages.
func Open(path string, opts ...Option) (*Reader, error) {
	var o readOptions
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	var files []string
	var meta *metadata
	if fi.IsDir() {
		files, meta, err = folderFiles(path)
		if err != nil {
			return nil, err
		}
	} else {
		files = []string{path}
	}

	r := &Reader{pending: -1}
	for _, f := range files {
		src, err := openSource(f, storageOf(f, meta), o.topics)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.cursors = append(r.cursors, &cursor{src: src})
	}
	r.topics = mergeTopics(r.cursors, meta)
	return r, nil
}

// folderFiles returns the storage files of a bag folder and its metadata,
// which is nil when the folder has no metadata.yaml.
func folderFiles(dir string) ([]string, *metadata, error) {
	metaPath := filepath.Join(dir, MetadataFile)
	if _, err := os.Stat(metaPath); errors.Is(err, os.ErrNotExist) {
		var files []string
		for _, pattern := range []string{"*.mcap", "*.db3"} {
			m, _ := filepath.Glob(filepath.Join(dir, pattern))
			files = append(files, m...)
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("bag: %s: no %s and no .mcap or .db3 files", dir, MetadataFile)
		}
		sort.Strings(files)
		return files, nil, nil
	}
	meta, err := readMetadata(metaPath)
	if err != nil {
		return nil, nil, err
	}
	var files []string
	for _, rel := range meta.Info.RelativeFilePaths {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err != nil {
			// Early rosbag2 versions prefixed the paths with the bag
			// folder's name; try the bare file name before giving up.
			alt := filepath.Join(dir, filepath.Base(filepath.FromSlash(rel)))
			if _, err2 := os.Stat(alt); err2 != nil {
				return nil, nil, fmt.Errorf("bag: %s: storage file %q listed in relative_file_paths: %w", metaPath, rel, err)
			}
			p = alt
		}
		files = append(files, p)
	}
	return files, meta, nil
}

const (
	storageMCAP   = "mcap"
	storageSQLite = "sqlite3"
)

// storageOf returns the storage plugin for a file: by extension, then by
// the storage_identifier of the bag's metadata, then by the magic bytes.
func storageOf(path string, meta *metadata) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".mcap":
		return storageMCAP
	case ".db3":
		return storageSQLite
	}
	if meta != nil && meta.Info.StorageIdentifier != "" {
		return meta.Info.StorageIdentifier
	}
	head := make([]byte, 16)
	if f, err := os.Open(path); err == nil {
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		f.Close()
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x89MCAP")):
		return storageMCAP
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return storageSQLite
	}
	return ""
}

func openSource(path, storage string, topics []string) (source, error) {
	switch storage {
	case storageMCAP:
		return openMCAP(path, topics)
	case storageSQLite:
		return openSQLite(path, topics)
	case "":
		return nil, fmt.Errorf("bag: %s: unknown storage: not an MCAP or sqlite3 file", path)
	}
	return nil, fmt.Errorf("bag: %s: unsupported storage_identifier %q (want %q or %q)", path, storage, storageMCAP, storageSQLite)
}

// mergeTopics lists the topics of all files, in the order first seen, with
// counts summed, and completes them from metadata.yaml.
func mergeTopics(cursors []*cursor, meta *metadata) []TopicInfo {
	var out []TopicInfo
	index := map[string]int{}
	for _, c := range cursors {
		for _, t := range c.src.topics() {
			i, ok := index[t.Name]
			if !ok {
				index[t.Name] = len(out)
				out = append(out, t)
				continue
			}
			switch {
			case out[i].MessageCount < 0 || t.MessageCount < 0:
				out[i].MessageCount = -1
			default:
				out[i].MessageCount += t.MessageCount
			}
			if out[i].OfferedQoSProfiles == "" {
				out[i].OfferedQoSProfiles = t.OfferedQoSProfiles
			}
		}
	}
	if meta == nil {
		return out
	}
	for _, mt := range meta.Info.Topics {
		tm := mt.TopicMetadata
		i, ok := index[tm.Name]
		if !ok {
			index[tm.Name] = len(out)
			out = append(out, TopicInfo{Name: tm.Name, Type: tm.Type, SerializationFormat: tm.SerializationFormat,
				MessageCount: mt.MessageCount, OfferedQoSProfiles: string(tm.OfferedQoSProfiles)})
			continue
		}
		if out[i].MessageCount < 0 {
			out[i].MessageCount = mt.MessageCount
		}
		if out[i].OfferedQoSProfiles == "" {
			out[i].OfferedQoSProfiles = string(tm.OfferedQoSProfiles)
		}
	}
	return out
}

// Topics returns the topics of the bag, whether or not a topic filter was
// given to Open. The slice is a copy.
func (r *Reader) Topics() []TopicInfo {
	return append([]TopicInfo(nil), r.topics...)
}

// Next reads the next message, across all files of the bag in log-time
// order (ties keep file order), into msg. It returns io.EOF after the last
// message. msg.Data is overwritten in place (see [Message]); msg.Topic and
// msg.Type share storage with the Reader and do not allocate.
//
// After an error other than io.EOF, Next keeps returning that error.
func (r *Reader) Next(msg *Message) error {
	if r.closed {
		return ErrClosed
	}
	if r.err != nil {
		return r.err
	}
	if !r.started {
		r.started = true
		for _, c := range r.cursors {
			if err := r.advance(c); err != nil {
				return err
			}
		}
	} else if r.pending >= 0 {
		if err := r.advance(r.cursors[r.pending]); err != nil {
			return err
		}
	}
	best := -1
	for i, c := range r.cursors {
		if c.done {
			continue
		}
		if best < 0 || c.msg.LogTimeNanos < r.cursors[best].msg.LogTimeNanos {
			best = i
		}
	}
	r.pending = best
	if best < 0 {
		return io.EOF
	}
	m := &r.cursors[best].msg
	msg.Topic = m.Topic
	msg.Type = m.Type
	msg.LogTimeNanos = m.LogTimeNanos
	msg.Data = append(msg.Data[:0], m.Data...)
	return nil
}

func (r *Reader) advance(c *cursor) error {
	if c.done {
		return nil
	}
	err := c.src.next(&c.msg)
	if errors.Is(err, io.EOF) {
		c.done = true
		return nil
	}
	if err != nil {
		r.err = err
	}
	return err
}

// Close releases the files of the bag. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	for _, c := range r.cursors {
		errs = append(errs, c.src.close())
	}
	return errors.Join(errs...)
}
