package bag

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/foxglove/mcap/go/mcap"
)

// messageIterator is the part of mcap.MessageIterator the Reader uses.
type messageIterator interface {
	NextInto(msg *mcap.Message) (*mcap.Schema, *mcap.Channel, *mcap.Message, error)
}

// fileOrderIterator reads the messages of an MCAP file without an index,
// in file order. It does what the MCAP library's unindexed iterator does,
// but with a lexer whose record size is capped, so a damaged length inside
// a chunk cannot trigger a large allocation.
type fileOrderIterator struct {
	lexer    *mcap.Lexer
	file     *countingReader
	schemas  map[uint16]*mcap.Schema
	channels map[uint16]*mcap.Channel
	topics   map[string]bool
	buf      []byte
}

// minRecordCap is the record size a file-order read always allows, for
// messages in compressed chunks that are larger than the whole file.
const minRecordCap = 64 << 20

// newFileOrderIterator reads f from its start. f must be size bytes long.
func newFileOrderIterator(f *os.File, size int64, topics []string) (*fileOrderIterator, error) {
	file := &countingReader{r: f}
	lexer, err := mcap.NewLexer(file, &mcap.LexerOptions{
		MaxRecordSize:            int(max(size, minRecordCap)),
		MaxDecompressedChunkSize: MaxChunkBytes,
		ValidateChunkCRCs:        true,
	})
	if err != nil {
		return nil, err
	}
	it := &fileOrderIterator{
		lexer:    lexer,
		file:     file,
		schemas:  map[uint16]*mcap.Schema{},
		channels: map[uint16]*mcap.Channel{},
	}
	if len(topics) > 0 {
		it.topics = map[string]bool{}
		for _, t := range topics {
			it.topics[t] = true
		}
	}
	return it, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NextInto returns the next message, or io.EOF after the last one.
// Messages on channels not seen yet are skipped, as in the MCAP library.
func (it *fileOrderIterator) NextInto(msg *mcap.Message) (*mcap.Schema, *mcap.Channel, *mcap.Message, error) {
	for {
		tok, record, err := it.lexer.Next(it.buf)
		if errors.Is(err, io.EOF) {
			return nil, nil, nil, err
		}
		if err != nil {
			// The lexer reads a chunk whole, so the offset read so far is
			// the end of the record (a corrupt chunk: its CRC) at fault.
			return nil, nil, nil, fmt.Errorf("record ending at or before byte offset %d: %w", it.file.n, err)
		}
		if cap(record) > cap(it.buf) {
			it.buf = record
		}
		switch tok {
		case mcap.TokenSchema:
			s, err := mcap.ParseSchema(record)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("parsing a schema: %w", err)
			}
			it.schemas[s.ID] = s
		case mcap.TokenChannel:
			c, err := mcap.ParseChannel(record)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("parsing a channel: %w", err)
			}
			if it.topics == nil || it.topics[c.Topic] {
				it.channels[c.ID] = c
			}
		case mcap.TokenMessage:
			if err := msg.PopulateFrom(record, true); err != nil {
				return nil, nil, nil, fmt.Errorf("parsing a message: %w", err)
			}
			c := it.channels[msg.ChannelID]
			if c == nil {
				continue
			}
			s := it.schemas[c.SchemaID]
			if s == nil && c.SchemaID != 0 {
				return nil, nil, nil, fmt.Errorf("channel %d refers to unknown schema %d", c.ID, c.SchemaID)
			}
			return s, c, msg, nil
		}
	}
}
