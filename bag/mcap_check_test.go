package bag

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMCAPLengthChecks damages length fields that the MCAP library would
// trust for an allocation, and checks that Open rejects each file with an
// error naming it.
func TestMCAPLengthChecks(t *testing.T) {
	dir := writeBag(t, filepath.Join(t.TempDir(), "rec"), WriterOptions{}, sampleMessages(t))
	good := mustRead(t, mcapFile(t, dir))
	size := len(good)
	footerAt := size - magicLen - footerLen
	firstChunk := firstChunkOffset(t, mcapFile(t, dir))

	tests := []struct {
		name    string
		damage  func(b []byte)
		wantErr string
	}{
		{
			name:    "header record longer than the file",
			damage:  func(b []byte) { binary.LittleEndian.PutUint64(b[magicLen+1:], 1<<40) },
			wantErr: "not an MCAP file: the header record at offset 8 claims 1099511627776 bytes",
		},
		{
			name:    "footer with a wrong length",
			damage:  func(b []byte) { binary.LittleEndian.PutUint64(b[footerAt+1:], 1<<30) },
			wantErr: "corrupt footer at offset",
		},
		{
			name:    "summary start past the footer",
			damage:  func(b []byte) { binary.LittleEndian.PutUint64(b[footerAt+9:], uint64(size)) },
			wantErr: "footer: summary start",
		},
		{
			name:    "summary record cut by the footer",
			damage:  func(b []byte) { binary.LittleEndian.PutUint64(b[footerAt+9:], uint64(footerAt-3)) },
			wantErr: "3 bytes left, a record header needs 9",
		},
		{
			name:    "uncompressed chunk claiming a larger size",
			damage:  func(b []byte) { binary.LittleEndian.PutUint64(b[firstChunk+25:], 500<<20) },
			wantErr: "chunk index 0: corrupt chunk at offset",
		},
		{
			name:    "chunk larger than the limit",
			damage:  func(b []byte) { binary.LittleEndian.PutUint64(b[firstChunk+25:], MaxChunkBytes+1) },
			wantErr: "more than the 1073741824 limit",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := append([]byte(nil), good...)
			tc.damage(data)
			path := filepath.Join(t.TempDir(), "damaged.mcap")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "bag: "+path+": ") || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v\nwant bag: %s: ...%s...", err, path, tc.wantErr)
			}
		})
	}
}

func firstChunkOffset(t *testing.T, path string) int {
	t.Helper()
	return int(chunkIndexes(t, path)[0].ChunkStartOffset)
}
