package bag

import (
	"fmt"
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
	lexer, err := mcap.NewLexer(f, &mcap.LexerOptions{
		MaxRecordSize:            int(max(size, minRecordCap)),
		MaxDecompressedChunkSize: MaxChunkBytes,
	})
	if err != nil {
		return nil, err
	}
	it := &fileOrderIterator{
		lexer:    lexer,
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

// NextInto returns the next message, or io.EOF after the last one.
// Messages on channels not seen yet are skipped, as in the MCAP library.
func (it *fileOrderIterator) NextInto(msg *mcap.Message) (*mcap.Schema, *mcap.Channel, *mcap.Message, error) {
	for {
		tok, record, err := it.lexer.Next(it.buf)
		if err != nil {
			return nil, nil, nil, err
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
