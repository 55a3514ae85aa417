package bag

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/foxglove/mcap/go/mcap"
)

// mcapSource reads one MCAP file through its index, in log-time order; a
// file without chunk indexes (rosbag2's "fastwrite" profile, or no summary)
// is read in file order.
type mcapSource struct {
	path      string
	f         *os.File
	verifier  *chunkVerifier
	it        messageIterator
	msg       mcap.Message
	topicList []TopicInfo
	last      Message // topic and time of the last message read, for errors
	read      bool
}

func openMCAP(path string, topics []string) (_ *mcapSource, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	s := &mcapSource{path: path, f: f, verifier: newChunkVerifier(f)}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bag: %s: malformed MCAP file (reader panicked: %v)", path, p)
		}
		if err != nil {
			s.close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	if err := checkHeader(f, st.Size()); err != nil {
		return nil, fmt.Errorf("bag: %s: %w", path, err)
	}
	r, err := mcap.NewReader(s.verifier)
	if err != nil {
		return nil, fmt.Errorf("bag: %s: not an MCAP file: %w", path, err)
	}
	if err := checkSummary(f, st.Size()); err != nil {
		return nil, fmt.Errorf("bag: %s: %w", path, err)
	}
	info, err := r.Info()
	if err != nil {
		return nil, fmt.Errorf("bag: %s: cannot read the MCAP summary, the file is truncated or corrupt "+
			"(an interrupted recording can be repaired with `ros2 bag reindex` or `mcap recover`): %w", path, err)
	}
	if err := checkChunks(f, st.Size(), info.ChunkIndexes); err != nil {
		return nil, fmt.Errorf("bag: %s: %w", path, err)
	}
	s.verifier.index(info.ChunkIndexes)
	s.topicList = mcapTopics(info)

	if info.CanReadMessagesUsingIndex() {
		s.it, err = r.Messages(mcap.UsingIndex(true), mcap.InOrder(mcap.LogTimeOrder), mcap.WithTopics(topics))
	} else {
		// No index: read in file order from the start (reading the
		// summary moved the file offset).
		if _, err = s.verifier.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("bag: %w", err)
		}
		s.it, err = newFileOrderIterator(f, st.Size(), topics)
	}
	if err != nil {
		return nil, fmt.Errorf("bag: %s: %w", path, err)
	}
	return s, nil
}

// mcapTopics lists the channels of an MCAP file in channel ID order.
func mcapTopics(info *mcap.Info) []TopicInfo {
	ids := make([]int, 0, len(info.Channels))
	for id := range info.Channels {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	out := make([]TopicInfo, 0, len(ids))
	for _, id := range ids {
		ch := info.Channels[uint16(id)]
		t := TopicInfo{
			Name:                ch.Topic,
			SerializationFormat: ch.MessageEncoding,
			MessageCount:        -1,
			OfferedQoSProfiles:  ch.Metadata["offered_qos_profiles"],
		}
		if sc := info.Schemas[ch.SchemaID]; sc != nil {
			t.Type = sc.Name
		}
		if info.Statistics != nil {
			t.MessageCount = int64(info.Statistics.ChannelMessageCounts[ch.ID])
		}
		out = append(out, t)
	}
	return out
}

func (s *mcapSource) topics() []TopicInfo { return s.topicList }

func (s *mcapSource) next(m *Message) error {
	schema, ch, err := nextMCAP(s.it, &s.msg)
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if err != nil {
		return s.wrap(err)
	}
	if s.msg.LogTime > math.MaxInt64 {
		return s.wrap(fmt.Errorf("log time %d on topic %q is out of range", s.msg.LogTime, ch.Topic))
	}
	if int64(len(s.msg.Data)) > maxMessageBytes {
		return s.wrap(fmt.Errorf("message of %d bytes on topic %q, more than the %d-byte limit", len(s.msg.Data), ch.Topic, maxMessageBytes))
	}
	m.Topic = ch.Topic
	m.Type = ""
	if schema != nil {
		m.Type = schema.Name
	}
	m.LogTimeNanos = int64(s.msg.LogTime)
	m.Data = s.msg.Data
	s.last.Topic, s.last.LogTimeNanos, s.read = m.Topic, m.LogTimeNanos, true
	return nil
}

// nextMCAP calls the iterator, turning a panic inside the MCAP library on
// malformed data into an error.
func nextMCAP(it messageIterator, msg *mcap.Message) (schema *mcap.Schema, ch *mcap.Channel, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed MCAP data (reader panicked: %v)", p)
		}
	}()
	schema, ch, _, err = it.NextInto(msg)
	if err == nil && ch == nil {
		err = errors.New("message without a channel")
	}
	return schema, ch, err
}

func (s *mcapSource) wrap(err error) error {
	if !s.read {
		return fmt.Errorf("bag: %s: reading the first message: %w", s.path, err)
	}
	return fmt.Errorf("bag: %s: reading the message after log time %d (topic %q): %w",
		s.path, s.last.LogTimeNanos, s.last.Topic, err)
}

func (s *mcapSource) close() error {
	s.verifier.close()
	return s.f.Close()
}
