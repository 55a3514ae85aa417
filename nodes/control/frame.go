package control

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // CompressedImage formats
	_ "image/png"
	"strings"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
)

// frame is one image from one camera: raw pixels, or compressed bytes
// that the stepping goroutine decodes (callbacks never decode).
type frame struct {
	seq          uint64 // 0: no image yet
	waited       Skip   // why a tick saw it wait (Stepped: no tick did)
	stamp        msgs.Time
	frameID      string
	raw          policy.Image
	isCompressed bool // the image came as a CompressedImage
	compressed   []byte
	format       string
	rgba         *image.RGBA // decode buffer, reused while the size holds
}

// setRaw copies an Image message into the frame, reusing its buffer.
func (f *frame) setRaw(m *msgs.Image, seq uint64) {
	f.seq, f.stamp, f.frameID = seq, m.Header.Stamp, m.Header.FrameID
	f.raw.Width, f.raw.Height, f.raw.Step, f.raw.Encoding = int(m.Width), int(m.Height), int(m.Step), m.Encoding
	f.raw.Data = append(f.raw.Data[:0], m.Data...)
	f.isCompressed, f.compressed = false, f.compressed[:0]
}

// setCompressed copies a CompressedImage message into the frame.
func (f *frame) setCompressed(m *msgs.CompressedImage, seq uint64) {
	f.seq, f.stamp, f.frameID = seq, m.Header.Stamp, m.Header.FrameID
	f.compressed = append(f.compressed[:0], m.Data...)
	f.format, f.isCompressed = m.Format, true
}

// image returns the frame as pixels the engine reads, decoding a
// compressed frame (JPEG or PNG; image_transport's "rgb8; jpeg compressed
// bgr8" names are accepted, the decoder reads the file's own format).
func (f *frame) image() (*policy.Image, error) {
	if !f.isCompressed {
		return &f.raw, nil
	}
	if len(f.compressed) == 0 {
		// Not the previous frame's pixels under this message's stamp.
		return nil, fmt.Errorf("compressed image (%s) has no data", f.format)
	}
	format := strings.ToLower(f.format)
	if !strings.Contains(format, "jpeg") && !strings.Contains(format, "jpg") && !strings.Contains(format, "png") && format != "" {
		return nil, fmt.Errorf("compressed image format %q is not jpeg or png", f.format)
	}
	// The header says how large the decoded image will be: refuse an
	// over-limit size before the decoder allocates it, as a file of a few
	// hundred bytes can claim gigapixels.
	cfg, _, err := image.DecodeConfig(bytes.NewReader(f.compressed))
	if err != nil {
		return nil, fmt.Errorf("compressed image (%s): %w", f.format, err)
	}
	if err := policy.CheckImageSize(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("compressed image (%s): %w", f.format, err)
	}
	img, _, err := image.Decode(bytes.NewReader(f.compressed))
	if err != nil {
		return nil, fmt.Errorf("compressed image (%s): %w", f.format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("compressed image (%s): decoded %dx%d, header says %dx%d", f.format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	b := img.Bounds()
	if f.rgba == nil || f.rgba.Rect.Dx() != b.Dx() || f.rgba.Rect.Dy() != b.Dy() {
		f.rgba = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	}
	draw.Draw(f.rgba, f.rgba.Rect, img, b.Min, draw.Src)
	f.raw = policy.Image{Width: b.Dx(), Height: b.Dy(), Step: f.rgba.Stride, Encoding: "rgba8", Data: f.rgba.Pix}
	return &f.raw, nil
}
