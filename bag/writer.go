package bag

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/deervla/deer_vla/msgs"
)

// Compression selects the MCAP chunk compression of a Writer.
type Compression int

// Chunk compressions. The zero value means CompressionNone, rosbag2's
// default for MCAP.
const (
	CompressionNone Compression = iota + 1
	CompressionZstd
	CompressionLZ4
)

// WriterOptions configures [Create]. The zero value writes like
// `ros2 bag record -s mcap` on Humble.
type WriterOptions struct {
	// BaseName names the storage file <BaseName>_0.mcap. It defaults to
	// the base name of the bag folder, as in rosbag2.
	BaseName string
	// Compression is the chunk compression. It defaults to CompressionNone.
	Compression Compression
	// ChunkBytes is the uncompressed size, in bytes, at which a chunk is
	// closed; a chunk is also the unit a reader loads at once. It defaults
	// to 1 MiB and may not exceed MaxChunkBytes.
	ChunkBytes int64
	// ROSDistro is stored in the MCAP "rosbag2" metadata record, as
	// rosbag2 does. It defaults to "humble".
	ROSDistro string
}

// Writer writes a rosbag2 folder (one MCAP file and metadata.yaml, see
// [Create]) or a single MCAP file (see [CreateFile]). It is not safe for
// concurrent use. Close must be called to finish the MCAP summary (and
// write metadata.yaml).
type Writer struct {
	dir      string // the bag folder, or "" for a single file
	file     string // the MCAP file: relative to dir, or the whole path
	f        *os.File
	bw       *bufio.Writer
	mw       *mcap.Writer
	topics   map[string]*topicState
	order    []*topicState
	schemas  map[string]uint16
	msg      mcap.Message
	scratch  []byte
	count    uint64
	start    int64
	end      int64
	closed   bool
	writeErr error
}

type topicState struct {
	channel uint16
	summary topicSummary
}

// Create creates the bag folder dir (which may exist if it is empty) and
// starts its MCAP file.
func Create(dir string, opts WriterOptions) (*Writer, error) {
	if opts.BaseName == "" {
		opts.BaseName = filepath.Base(filepath.Clean(dir))
	}
	if strings.ContainsAny(opts.BaseName, `/\`) || opts.BaseName == "." || opts.BaseName == ".." {
		return nil, fmt.Errorf("bag: create %s: 'BaseName' %q is not a file name", dir, opts.BaseName)
	}
	compression, err := opts.resolve(dir)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("bag: create %s: the folder exists and is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bag: create: %w", err)
	}
	return create(dir, opts.BaseName+"_0.mcap", opts, compression)
}

// CreateFile creates a single MCAP file at path, which must not exist,
// without a bag folder or metadata.yaml: the file Foxglove opens, and that
// `ros2 bag play -s mcap PATH` plays on Humble. Each topic's type and QoS
// are stored in the file (schemas, and channel metadata as rosbag2 does),
// so reading it back with [Open] gives the same topics as a folder would.
// opts.BaseName is not used.
func CreateFile(path string, opts WriterOptions) (*Writer, error) {
	compression, err := opts.resolve(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("bag: create %s: the file exists", path)
	}
	return create("", path, opts, compression)
}

// resolve fills in the defaults of opts and checks them.
func (opts *WriterOptions) resolve(path string) (mcap.CompressionFormat, error) {
	if opts.ChunkBytes == 0 {
		opts.ChunkBytes = 1 << 20
	}
	if opts.ChunkBytes < 0 || opts.ChunkBytes > MaxChunkBytes {
		return "", fmt.Errorf("bag: create %s: 'ChunkBytes' %d is not in 1..%d", path, opts.ChunkBytes, MaxChunkBytes)
	}
	if opts.ROSDistro == "" {
		opts.ROSDistro = "humble"
	}
	switch opts.Compression {
	case 0, CompressionNone:
		return mcap.CompressionNone, nil
	case CompressionZstd:
		return mcap.CompressionZSTD, nil
	case CompressionLZ4:
		return mcap.CompressionLZ4, nil
	}
	return "", fmt.Errorf("bag: create %s: 'Compression' %d is not a known compression", path, opts.Compression)
}

// create starts the MCAP file dir/file (file alone when dir is "").
func create(dir, file string, opts WriterOptions, compression mcap.CompressionFormat) (*Writer, error) {
	w := &Writer{
		dir:     dir,
		file:    file,
		topics:  map[string]*topicState{},
		schemas: map[string]uint16{},
	}
	f, err := os.OpenFile(w.path(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bag: create: %w", err)
	}
	w.f = f
	w.bw = bufio.NewWriterSize(f, 1<<20)
	w.mw, err = mcap.NewWriter(w.bw, &mcap.WriterOptions{
		Chunked:     true,
		ChunkSize:   opts.ChunkBytes,
		Compression: compression,
		IncludeCRC:  true,
	})
	if err == nil {
		err = w.mw.WriteHeader(&mcap.Header{Profile: "ros2", Library: "deer_vla/bag"})
	}
	if err == nil {
		err = w.mw.WriteMetadata(&mcap.Metadata{Name: "rosbag2", Metadata: map[string]string{"ROS_DISTRO": opts.ROSDistro}})
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bag: create %s: %w", w.path(), err)
	}
	return w, nil
}

func (w *Writer) path() string { return filepath.Join(w.dir, w.file) }

// AddTopic registers a topic before its first message. typeName is a ROS
// type such as "sensor_msgs/msg/Image". Types of package msgs get their
// ros2msg definition as MCAP schema; other types get an empty schema, as
// rosbag2 writes when it cannot find a definition, and tools that need
// the definition (Foxglove) cannot decode them.
func (w *Writer) AddTopic(name, typeName string, qos QoS) error {
	if w.closed {
		return ErrClosed
	}
	switch {
	case name == "":
		return errors.New("bag: AddTopic: empty topic name")
	case strings.Count(typeName, "/") != 2 || strings.Contains(typeName, "//") ||
		strings.HasPrefix(typeName, "/") || strings.HasSuffix(typeName, "/"):
		return fmt.Errorf("bag: AddTopic %q: type %q is not of the form package/msg/Type", name, typeName)
	}
	if err := qos.validate(); err != nil {
		return fmt.Errorf("bag: AddTopic %q: %w", name, err)
	}
	if t, ok := w.topics[name]; ok {
		return fmt.Errorf("bag: AddTopic %q: topic already added with type %q", name, t.summary.typ)
	}
	schemaID, ok := w.schemas[typeName]
	if !ok {
		schemaID = uint16(len(w.schemas) + 1)
		schema := &mcap.Schema{ID: schemaID, Name: typeName}
		if def, ok := msgs.Definition(typeName); ok {
			schema.Encoding = "ros2msg"
			schema.Data = []byte(def)
		}
		if err := w.mw.WriteSchema(schema); err != nil {
			return fmt.Errorf("bag: %s: schema %s: %w", w.path(), typeName, err)
		}
		w.schemas[typeName] = schemaID
	}
	t := &topicState{
		channel: uint16(len(w.order) + 1),
		summary: topicSummary{name: name, typ: typeName, qosYAML: qos.profilesYAML()},
	}
	err := w.mw.WriteChannel(&mcap.Channel{
		ID:              t.channel,
		SchemaID:        schemaID,
		Topic:           name,
		MessageEncoding: "cdr",
		Metadata:        map[string]string{"offered_qos_profiles": t.summary.qosYAML},
	})
	if err != nil {
		return fmt.Errorf("bag: %s: channel %q: %w", w.path(), name, err)
	}
	w.topics[name] = t
	w.order = append(w.order, t)
	return nil
}

// Write appends one CDR-serialized message on a topic added with
// AddTopic. logTimeNanos is the receive time in nanoseconds since the
// epoch, used as both MCAP log and publish time; messages may come in any
// order. data is copied before Write returns.
func (w *Writer) Write(topic string, logTimeNanos int64, data []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.writeErr != nil {
		return w.writeErr
	}
	t, ok := w.topics[topic]
	if !ok {
		return fmt.Errorf("bag: write: topic %q was not added with AddTopic", topic)
	}
	if logTimeNanos < 0 {
		return fmt.Errorf("bag: write: topic %q: negative log time %d", topic, logTimeNanos)
	}
	w.msg = mcap.Message{ChannelID: t.channel, LogTime: uint64(logTimeNanos), PublishTime: uint64(logTimeNanos), Data: data}
	err := w.mw.WriteMessage(&w.msg)
	w.msg.Data = nil
	if err != nil {
		w.writeErr = fmt.Errorf("bag: %s: write topic %q at %d: %w", w.path(), topic, logTimeNanos, err)
		return w.writeErr
	}
	t.summary.count++
	if w.count == 0 || logTimeNanos < w.start {
		w.start = logTimeNanos
	}
	if w.count == 0 || logTimeNanos > w.end {
		w.end = logTimeNanos
	}
	w.count++
	return nil
}

// WriteMessage serializes m and writes it like Write. The topic must have
// been added with m's type.
func (w *Writer) WriteMessage(topic string, logTimeNanos int64, m msgs.Message) error {
	if t, ok := w.topics[topic]; ok && t.summary.typ != m.TypeName() {
		return fmt.Errorf("bag: write: topic %q has type %q, message is %q", topic, t.summary.typ, m.TypeName())
	}
	w.scratch = m.MarshalCDR(w.scratch[:0])
	return w.Write(topic, logTimeNanos, w.scratch)
}

// Close finishes the MCAP file (index and summary) and, for a bag folder,
// writes metadata.yaml. It is safe to call more than once; later calls return
// nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	if err := w.mw.Close(); err != nil {
		errs = append(errs, fmt.Errorf("bag: %s: %w", w.path(), err))
	}
	if err := w.bw.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("bag: %s: %w", w.path(), err))
	}
	if err := w.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("bag: %w", err))
	}
	if w.dir == "" {
		return errors.Join(errs...)
	}
	topics := make([]topicSummary, len(w.order))
	for i, t := range w.order {
		topics[i] = t.summary
	}
	file := fileSummary{path: w.file, startNanos: w.start, endNanos: w.end, count: w.count}
	meta := renderMetadata(storageMCAP, topics, []fileSummary{file})
	if err := os.WriteFile(filepath.Join(w.dir, MetadataFile), meta, 0o644); err != nil {
		errs = append(errs, fmt.Errorf("bag: %w", err))
	}
	return errors.Join(errs...)
}
