package control

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
)

// pngHeaderOnly returns a PNG file of about 60 bytes whose header claims a
// width x height RGBA image, with one empty IDAT chunk.
func pngHeaderOnly(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		body := append([]byte(typ), data...)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, no interlace
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}) // empty zlib stream
	chunk("IEND", nil)
	return b.Bytes()
}

// A small compressed image whose header claims more pixels than the limit
// is refused from its header: decoding it would allocate its full size
// (here 268 MB) before finding that the pixel data is missing.
func TestCompressedImageRefusedByHeaderSize(t *testing.T) {
	data := pngHeaderOnly(policy.MaxImageSide, 4096)
	f := &frame{}
	f.setCompressed(&msgs.CompressedImage{Format: "png", Data: data}, 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := f.image()
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "pixel limit") {
		t.Fatalf("image() = %v, want the pixel limit", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Fatalf("refusing a %d-byte file allocated %d bytes", len(data), grown)
	}
	// Within the limits, the same file is decoded, and fails on its
	// missing pixels.
	f.setCompressed(&msgs.CompressedImage{Format: "png", Data: pngHeaderOnly(64, 48)}, 2)
	if _, err := f.image(); err == nil || strings.Contains(err.Error(), "limit") {
		t.Fatalf("a 64x48 header: %v, want a decode error", err)
	}
}

// An empty CompressedImage is an error, not the previous raw frame's
// pixels stepped again under the new message's stamp.
func TestEmptyCompressedImageIsNotTheLastRawFrame(t *testing.T) {
	f := &frame{}
	f.setRaw(&msgs.Image{Width: 1, Height: 1, Encoding: "mono8", Data: []byte{7}}, 1)
	f.setCompressed(&msgs.CompressedImage{Format: "jpeg"}, 2)
	if im, err := f.image(); err == nil || !strings.Contains(err.Error(), "no data") {
		t.Fatalf("image() = %+v, %v; want an error", im, err)
	}
}
