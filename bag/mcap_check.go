package bag

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/foxglove/mcap/go/mcap"
)

// The MCAP library trusts the lengths it reads and allocates buffers of
// that size before reading (up to 2 GiB per record). The checks here read
// only record headers and reject lengths that do not fit in the file, so a
// damaged file gives an error instead of a large allocation.

// MaxChunkBytes is the largest uncompressed MCAP chunk the Reader loads.
// Writers aim at chunks of about 1 MiB (4 MiB for rosbag2's zstd_small
// profile); a larger size in a file is taken as corruption.
const MaxChunkBytes = 1 << 30

const (
	magicLen        = 8
	recordHeaderLen = 1 + 8 // opcode, length
	footerLen       = recordHeaderLen + 8 + 8 + 4
)

// checkHeader checks that the records the MCAP reader reads to find the
// header (the first record, after any records of unknown opcodes, which it
// skips) fit in the file. A file without the MCAP magic is left to the
// MCAP reader to reject.
func checkHeader(f *os.File, size int64) error {
	var magic [5]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "\x89MCAP" {
		return nil
	}
	var hdr [recordHeaderLen]byte
	for pos := int64(magicLen); pos < size; {
		if _, err := f.ReadAt(hdr[:], pos); err != nil {
			return nil // too short for a header: the MCAP reader reports it
		}
		op := mcap.OpCode(hdr[0])
		n := binary.LittleEndian.Uint64(hdr[1:])
		if left := uint64(size - pos - recordHeaderLen); n > left {
			return fmt.Errorf("not an MCAP file: the %s record at offset %d claims %d bytes, only %d left", op, pos, n, left)
		}
		if op >= mcap.OpHeader && op <= mcap.OpDataEnd {
			return nil
		}
		pos += recordHeaderLen + int64(n)
	}
	return nil
}

// checkSummary checks the footer and that the records of the summary
// section, which the footer points to, fit between the summary start and
// the footer. A file that does not end with the MCAP magic is left to the
// MCAP reader to reject.
func checkSummary(f *os.File, size int64) error {
	footerAt := size - magicLen - footerLen
	if footerAt < magicLen {
		return nil
	}
	var footer [footerLen + magicLen]byte
	if _, err := f.ReadAt(footer[:], footerAt); err != nil || string(footer[footerLen:footerLen+5]) != "\x89MCAP" {
		return nil
	}
	if mcap.OpCode(footer[0]) != mcap.OpFooter || binary.LittleEndian.Uint64(footer[1:9]) != footerLen-recordHeaderLen {
		return fmt.Errorf("corrupt footer at offset %d (opcode 0x%02x, length %d)",
			footerAt, footer[0], binary.LittleEndian.Uint64(footer[1:9]))
	}
	summaryStart := binary.LittleEndian.Uint64(footer[9:17])
	if summaryStart == 0 {
		return nil
	}
	if summaryStart < magicLen || summaryStart > uint64(footerAt) {
		return fmt.Errorf("footer: summary start %d is outside the file (footer at %d)", summaryStart, footerAt)
	}
	return checkRecords(f, int64(summaryStart), footerAt)
}

// checkRecords walks the records from offset start (the summary section)
// and checks that each fits before end. It stops at a footer record, which
// must be at end or be a whole footer.
func checkRecords(f *os.File, start, end int64) error {
	var hdr [recordHeaderLen]byte
	for pos := start; pos < end; {
		if end-pos < recordHeaderLen {
			return fmt.Errorf("record at offset %d: %d bytes left, a record header needs %d", pos, end-pos, recordHeaderLen)
		}
		if _, err := f.ReadAt(hdr[:], pos); err != nil {
			return fmt.Errorf("record at offset %d: reading its header: %w", pos, err)
		}
		op := mcap.OpCode(hdr[0])
		n := binary.LittleEndian.Uint64(hdr[1:])
		if op == mcap.OpFooter {
			if pos != end && n != footerLen-recordHeaderLen {
				return fmt.Errorf("corrupt footer record at offset %d (length %d)", pos, n)
			}
			return nil
		}
		left := uint64(end - pos - recordHeaderLen)
		if n > left {
			return fmt.Errorf("%s record at offset %d claims %d bytes, only %d left", op, pos, n, left)
		}
		pos += recordHeaderLen + int64(n)
	}
	return nil
}

// checkChunks reads the header of every indexed chunk and checks that it
// lies inside the file and that its uncompressed size is plausible (equal
// to the stored size when uncompressed, at most MaxChunkBytes otherwise),
// so a corrupt index or chunk cannot make the MCAP reader allocate and
// scan a large buffer.
func checkChunks(f *os.File, size int64, chunks []*mcap.ChunkIndex) error {
	// opcode, record length, start, end, uncompressed size, CRC,
	// compression (length-prefixed, at most 16 bytes here), records length
	const fixedLen = 1 + 8 + 8 + 8 + 8 + 4 + 4
	const maxCompressionName = 16
	var hdr [fixedLen + maxCompressionName + 8]byte
	for i, ci := range chunks {
		end := ci.ChunkStartOffset + ci.ChunkLength
		if ci.ChunkLength < fixedLen+8 || end < ci.ChunkStartOffset || end > uint64(size) {
			return fmt.Errorf("chunk index %d: chunk at offset %d, length %d, does not fit in the %d-byte file",
				i, ci.ChunkStartOffset, ci.ChunkLength, size)
		}
		n := min(uint64(len(hdr)), ci.ChunkLength)
		if _, err := f.ReadAt(hdr[:n], int64(ci.ChunkStartOffset)); err != nil {
			return fmt.Errorf("chunk index %d: reading the chunk at offset %d: %w", i, ci.ChunkStartOffset, err)
		}
		recordLen := binary.LittleEndian.Uint64(hdr[1:9])
		uncompressed := binary.LittleEndian.Uint64(hdr[25:33])
		nameLen := uint64(binary.LittleEndian.Uint32(hdr[37:41]))
		bad := ""
		switch {
		case mcap.OpCode(hdr[0]) != mcap.OpChunk:
			bad = fmt.Sprintf("opcode 0x%02x is not a chunk", hdr[0])
		case recordLen != ci.ChunkLength-9:
			bad = fmt.Sprintf("record length %d, index says %d", recordLen, ci.ChunkLength-9)
		case nameLen > maxCompressionName || fixedLen+nameLen+8 > n:
			bad = fmt.Sprintf("compression name of %d bytes", nameLen)
		case uncompressed > MaxChunkBytes:
			bad = fmt.Sprintf("%d uncompressed bytes, more than the %d limit", uncompressed, MaxChunkBytes)
		}
		if bad == "" {
			compression := string(hdr[fixedLen : fixedLen+nameLen])
			stored := binary.LittleEndian.Uint64(hdr[fixedLen+nameLen:])
			if compression == "" && stored != uncompressed {
				bad = fmt.Sprintf("uncompressed chunk stores %d bytes but claims %d", stored, uncompressed)
			}
		}
		if bad != "" {
			return fmt.Errorf("chunk index %d: corrupt chunk at offset %d: %s", i, ci.ChunkStartOffset, bad)
		}
	}
	return nil
}
