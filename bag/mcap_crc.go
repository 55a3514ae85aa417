package bag

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/foxglove/mcap/go/mcap"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The MCAP library's indexed reader loads chunks without checking the CRC
// of their records, so a corrupted chunk replays silently with absurd
// values. chunkVerifier is the file as that reader sees it: it knows where
// the indexed chunks start, and checks a chunk's CRC as the reader loads
// it (the reader seeks to the chunk's start and reads it whole), before
// the reader decodes a message from it.
type chunkVerifier struct {
	f      *os.File
	pos    int64
	starts map[int64]int // chunk start offset -> index in chunks
	chunks []*mcap.ChunkIndex
	buf    []byte // a chunk read apart, or decompressed records
	zstd   *zstd.Decoder
	lz4    *lz4.Reader
}

func newChunkVerifier(f *os.File) *chunkVerifier { return &chunkVerifier{f: f} }

// index makes the verifier check the chunks of an index. Until it is
// called (while the reader reads the summary) reads pass through.
func (v *chunkVerifier) index(chunks []*mcap.ChunkIndex) {
	v.chunks = chunks
	v.starts = make(map[int64]int, len(chunks))
	for i, ci := range chunks {
		v.starts[int64(ci.ChunkStartOffset)] = i
	}
}

// Seek implements io.Seeker.
func (v *chunkVerifier) Seek(offset int64, whence int) (int64, error) {
	pos, err := v.f.Seek(offset, whence)
	if err == nil {
		v.pos = pos
	}
	return pos, err
}

// Read implements io.Reader. A read that starts at an indexed chunk is
// checked: when it covers the whole chunk (the reader's own read), the
// bytes read are checked; otherwise the chunk is read apart first.
func (v *chunkVerifier) Read(p []byte) (int, error) {
	i, ok := v.starts[v.pos]
	if !ok {
		n, err := v.f.Read(p)
		v.pos += int64(n)
		return n, err
	}
	ci := v.chunks[i]
	length := int(ci.ChunkLength) // at most the file size: checkChunks
	if len(p) >= length {
		n, err := io.ReadFull(v.f, p[:length])
		v.pos += int64(n)
		if err != nil {
			return n, err
		}
		// A failed chunk reads as nothing: io.ReadFull drops the error
		// of a read that returns all the bytes asked for.
		if err := v.verify(i, p[:n]); err != nil {
			return 0, err
		}
		return n, nil
	}
	v.buf = grow(v.buf, length)
	if _, err := v.f.ReadAt(v.buf, v.pos); err != nil {
		return 0, fmt.Errorf("chunk %d at offset %d: %w", i, ci.ChunkStartOffset, err)
	}
	if err := v.verify(i, v.buf); err != nil {
		return 0, err
	}
	n, err := v.f.Read(p)
	v.pos += int64(n)
	return n, err
}

// verify checks the CRC of chunk i's uncompressed records; record is the
// whole chunk record, opcode and length included. A CRC of 0 means the
// writer did not compute one.
func (v *chunkVerifier) verify(i int, record []byte) error {
	ci := v.chunks[i]
	fail := func(format string, args ...any) error {
		return fmt.Errorf("chunk %d at offset %d is corrupt: %s", i, ci.ChunkStartOffset, fmt.Sprintf(format, args...))
	}
	chunk, err := parseChunk(record)
	if err != nil {
		return fail("%v", err)
	}
	if chunk.UncompressedCRC == 0 {
		return nil
	}
	var data []byte
	switch mcap.CompressionFormat(chunk.Compression) {
	case mcap.CompressionNone:
		data = chunk.Records
	case mcap.CompressionZSTD:
		if v.zstd == nil {
			v.zstd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxChunkBytes))
			if err != nil {
				return err
			}
		}
		// UncompressedSize is at most MaxChunkBytes: checkChunks.
		data, err = v.zstd.DecodeAll(chunk.Records, grow(v.buf, int(chunk.UncompressedSize))[:0])
		v.buf = data
	case mcap.CompressionLZ4:
		if v.lz4 == nil {
			v.lz4 = lz4.NewReader(nil)
		}
		v.lz4.Reset(bytes.NewReader(chunk.Records))
		v.buf = grow(v.buf, int(chunk.UncompressedSize))
		var n int
		n, err = io.ReadFull(v.lz4, v.buf)
		data = v.buf[:n]
	default:
		return fail("unsupported compression %q", chunk.Compression)
	}
	if err != nil {
		return fail("decompressing its records: %v", err)
	}
	if uint64(len(data)) != chunk.UncompressedSize {
		return fail("its records decompress to %d bytes, its header says %d", len(data), chunk.UncompressedSize)
	}
	if got := crc32.ChecksumIEEE(data); got != chunk.UncompressedCRC {
		return fail("CRC of its records is 0x%08x, its header says 0x%08x", got, chunk.UncompressedCRC)
	}
	return nil
}

// parseChunk parses a chunk record, checking the records length the MCAP
// library's parser would slice with unchecked.
func parseChunk(record []byte) (*mcap.Chunk, error) {
	const fixedLen = 8 + 8 + 8 + 4 // start, end, uncompressed size, CRC
	body := record[min(len(record), recordHeaderLen):]
	if len(body) < fixedLen+4 {
		return nil, fmt.Errorf("%d bytes, too short for a chunk", len(record))
	}
	nameLen := uint64(binary.LittleEndian.Uint32(body[fixedLen:]))
	if uint64(len(body)) < fixedLen+4+nameLen+8 {
		return nil, fmt.Errorf("compression name of %d bytes does not fit", nameLen)
	}
	recordsLen := binary.LittleEndian.Uint64(body[fixedLen+4+nameLen:])
	if left := uint64(len(body)) - (fixedLen + 4 + nameLen + 8); recordsLen > left {
		return nil, fmt.Errorf("records of %d bytes, only %d in the chunk", recordsLen, left)
	}
	return mcap.ParseChunk(body)
}

func (v *chunkVerifier) close() {
	if v.zstd != nil {
		v.zstd.Close()
	}
}

// grow returns b with length n, reallocating only when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
