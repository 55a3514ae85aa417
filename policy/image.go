package policy

import "fmt"

// Camera slots a model may declare.
const (
	SlotStatic  = "static"
	SlotGripper = "gripper"
)

// Resize rules a camera may declare.
const (
	ResizeExact    = "exact"    // any other size is an error
	ResizeNearest  = "nearest"  // torch "nearest": src = floor(dst * in/out)
	ResizeBilinear = "bilinear" // half-pixel centres, align_corners=False, no antialias
	ResizeCLIP     = "clip"     // PIL bicubic of the shorter side, centre crop: see preprocess_clip.go
)

// Image is one camera frame as it arrives from a driver: 8-bit pixels, rows
// Step bytes apart. The engine reads Data during Step and keeps no reference.
type Image struct {
	Width, Height int
	Step          int    // bytes per row; 0 means tightly packed
	Encoding      string // rgb8, bgr8, rgba8, bgra8 or mono8 (sensor_msgs/Image names)
	Data          []byte
}

// pixelLayout gives the byte offsets of red, green and blue in a pixel and
// the pixel's size, for each supported encoding.
func pixelLayout(encoding string) (r, g, b, size int, ok bool) {
	switch encoding {
	case "rgb8":
		return 0, 1, 2, 3, true
	case "bgr8":
		return 2, 1, 0, 3, true
	case "rgba8":
		return 0, 1, 2, 4, true
	case "bgra8":
		return 2, 1, 0, 4, true
	case "mono8":
		return 0, 0, 0, 1, true
	}
	return 0, 0, 0, 0, false
}

// Limits on a camera frame, checked before any pixel is read or any buffer
// sized from the frame: no real camera comes near them, and they keep every
// size computation far from overflow.
const (
	// MaxImageSide is the largest width or height, in pixels.
	MaxImageSide = 16384
	// MaxImagePixels is the largest width*height: 8K UHD (7680x4320) fits.
	MaxImagePixels = 1 << 25
	// MaxImageBytes is the largest image in bytes (rows and their padding),
	// which also bounds the row step.
	MaxImageBytes = 1 << 28
)

// CheckImageSize returns an error when a width x height frame is empty or
// beyond [MaxImageSide] or [MaxImagePixels]. Decoders call it with a
// compressed file's header size before they decode it.
func CheckImageSize(width, height int) error {
	switch {
	case width <= 0 || height <= 0:
		return fmt.Errorf("image size %dx%d is empty", width, height)
	case width > MaxImageSide || height > MaxImageSide:
		return fmt.Errorf("image size %dx%d is beyond the %d-pixel limit per side", width, height, MaxImageSide)
	case width*height > MaxImagePixels:
		return fmt.Errorf("image size %dx%d is beyond the %d-pixel limit", width, height, MaxImagePixels)
	}
	return nil
}

// check validates the frame's geometry and returns its pixel layout. Sizes
// are bounded before they are multiplied, so no product can overflow and
// every row the preprocessing reads lies inside Data.
func (im *Image) check() (offs [3]int, size, step int, err error) {
	r, g, b, size, ok := pixelLayout(im.Encoding)
	if !ok {
		return offs, 0, 0, fmt.Errorf("encoding %q is not supported (want rgb8, bgr8, rgba8, bgra8 or mono8)", im.Encoding)
	}
	if err := CheckImageSize(im.Width, im.Height); err != nil {
		return offs, 0, 0, err
	}
	step = im.Step
	if step == 0 {
		step = im.Width * size
	}
	if step < im.Width*size {
		return offs, 0, 0, fmt.Errorf("row step %d is shorter than %d pixels of %s", step, im.Width, im.Encoding)
	}
	// In int64, so that 32-bit platforms cannot overflow either: step <=
	// MaxImageBytes and height <= MaxImageSide keep the product in 42 bits.
	if step > MaxImageBytes || int64(step)*int64(im.Height-1)+int64(im.Width*size) > MaxImageBytes {
		return offs, 0, 0, fmt.Errorf("%dx%d %s image with step %d is beyond the %d-byte limit", im.Width, im.Height, im.Encoding, step, MaxImageBytes)
	}
	if need := step*(im.Height-1) + im.Width*size; len(im.Data) < need {
		return offs, 0, 0, fmt.Errorf("%dx%d %s image with step %d needs %d bytes, has %d", im.Width, im.Height, im.Encoding, step, need, len(im.Data))
	}
	return [3]int{r, g, b}, size, step, nil
}
