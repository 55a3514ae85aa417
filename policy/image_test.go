package policy

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// bilinearSpec is a camera that resizes any frame to 4x3, so every source
// row and column the sampling picks is read.
var bilinearSpec = CameraSpec{Slot: SlotStatic, Width: 4, Height: 3, Channels: "rgb",
	Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Resize: ResizeBilinear}

// TestImageCheckRefusesOverflowAndLimits feeds frames whose sizes, as a
// sensor_msgs/Image may carry them (uint32 fields), overflow the byte count
// or pass the limits: each must be an error, never a read outside Data.
func TestImageCheckRefusesOverflowAndLimits(t *testing.T) {
	const u32 = math.MaxUint32
	tests := []struct {
		name    string
		im      Image
		wantErr string
	}{
		// step*(height-1) wraps to a negative int64: the old check passed
		// it, then preprocessing indexed far outside Data.
		{"step times height overflows", Image{Width: 1, Height: u32, Step: u32, Encoding: "rgb8", Data: make([]byte, 3)}, "limit"},
		{"huge width", Image{Width: u32, Height: 1, Encoding: "rgb8", Data: make([]byte, 3)}, "per side"},
		{"too many pixels", Image{Width: MaxImageSide, Height: MaxImageSide, Encoding: "mono8"}, "pixel limit"},
		{"huge step", Image{Width: 2, Height: 2, Step: MaxImageBytes + 1, Encoding: "mono8", Data: make([]byte, 8)}, "byte limit"},
		{"negative size", Image{Width: -4, Height: 3, Encoding: "rgb8"}, "empty"},
		{"negative step", Image{Width: 4, Height: 3, Step: -12, Encoding: "rgb8", Data: make([]byte, 36)}, "shorter"},
		{"short data", Image{Width: 4, Height: 3, Encoding: "rgb8", Data: make([]byte, 35)}, "needs 36 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, 3*4*3)
			err := newPreprocessor(bilinearSpec, dst).load(&tc.im)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("load = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
	// The largest frame the limits allow still loads.
	side := MaxImageSide
	im := Image{Width: side, Height: MaxImagePixels / side, Encoding: "mono8", Data: make([]byte, MaxImagePixels)}
	if err := newPreprocessor(bilinearSpec, make([]float32, 36)).load(&im); err != nil {
		t.Fatalf("a frame at the limits: %v", err)
	}
}

// FuzzPreprocess loads frames of any geometry and encoding through each
// resize rule: an error is fine, a panic (a read outside Data) is not.
// The first 16 bytes give width, height, step (uint32, as in
// sensor_msgs/Image) and the encoding; the rest is pixel data.
func FuzzPreprocess(f *testing.F) {
	seed := func(w, h, step uint32, enc byte, data int) []byte {
		b := binary.LittleEndian.AppendUint32(nil, w)
		b = binary.LittleEndian.AppendUint32(b, h)
		b = binary.LittleEndian.AppendUint32(b, step)
		b = append(b, enc, 0, 0, 0)
		return append(b, make([]byte, data)...)
	}
	f.Add(seed(4, 3, 0, 0, 36))
	f.Add(seed(5, 7, 16, 3, 7*16))
	f.Add(seed(1, math.MaxUint32, math.MaxUint32, 0, 3))
	encodings := []string{"rgb8", "bgr8", "rgba8", "bgra8", "mono8", "yuv422"}
	specs := []CameraSpec{bilinearSpec, bilinearSpec, bilinearSpec}
	specs[1].Resize, specs[1].Channels = ResizeNearest, "bgr"
	specs[2].Resize, specs[2].Channels, specs[2].Mean, specs[2].Std = ResizeExact, "gray", []float32{0}, []float32{1}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 16 {
			return
		}
		im := Image{
			Width:    int(binary.LittleEndian.Uint32(data)),
			Height:   int(binary.LittleEndian.Uint32(data[4:])),
			Step:     int(binary.LittleEndian.Uint32(data[8:])),
			Encoding: encodings[int(data[12])%len(encodings)],
			Data:     data[16:],
		}
		for _, spec := range specs {
			dst := make([]float32, 3*spec.Width*spec.Height)
			_ = newPreprocessor(spec, dst).load(&im)
		}
	})
}
