package control

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// FuzzLoopMessages decodes CDR bytes as the node's three inputs (a raw
// static image, a compressed static image and an instruction), hands every
// one that decodes to the control loop, and ticks it after each, as the
// live node does, over the scripted model with a bilinear-resizing camera,
// so any frame size reaches preprocessing. A step may fail with an error;
// it must not panic, and an action it gives must be finite.
func FuzzLoopMessages(f *testing.F) {
	m := policytest.WriteModel(f, 2)
	m.Cameras[0].Resize = policy.ResizeBilinear

	raw := (&msgs.Image{Height: 3, Width: 5, Encoding: "bgr8", Step: 16, Data: make([]byte, 48)}).MarshalCDR(nil)
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 6, 2)))
	compressed := (&msgs.CompressedImage{Format: "png", Data: buf.Bytes()}).MarshalCDR(nil)
	instruction := (&msgs.String{Data: "move to the red block"}).MarshalCDR(nil)
	f.Add(raw, compressed, instruction)
	f.Add(raw, []byte{}, instruction)
	f.Add([]byte{}, compressed, instruction)

	f.Fuzz(func(t *testing.T, rawCDR, compressedCDR, instructionCDR []byte) {
		eng, err := policy.New(policy.Config{Manifest: m, Backend: policytest.NewBackend(m)})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		l := NewLoop(eng, 10)
		tick := func() {
			out, _, err := l.Tick(0)
			if err != nil || out == nil {
				return
			}
			for i, v := range out.Action.PoseDelta {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("pose_delta[%d] = %g", i, v)
				}
			}
		}
		var s msgs.String
		if s.UnmarshalCDR(instructionCDR) == nil {
			l.OnInstruction(s.Data)
		}
		var im msgs.Image
		if im.UnmarshalCDR(rawCDR) == nil {
			l.OnStaticImage(&im)
			tick()
		}
		var ci msgs.CompressedImage
		if ci.UnmarshalCDR(compressedCDR) == nil {
			l.OnStaticCompressed(&ci)
			tick()
		}
	})
}

// FuzzCompressedFrame decodes any bytes as a compressed camera frame (the
// image decoders see the bytes directly, so mutations reach their header
// and data parsing): an error is fine; a frame that decodes is within the
// image limits and passes the engine's own frame checks.
func FuzzCompressedFrame(f *testing.F) {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 3, 2)))
	f.Add(buf.Bytes())
	buf.Reset()
	jpeg.Encode(&buf, image.NewYCbCr(image.Rect(0, 0, 9, 7), image.YCbCrSubsampleRatio420), nil)
	f.Add(buf.Bytes())
	f.Add(pngHeaderOnly(policy.MaxImageSide, policy.MaxImageSide))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := &frame{}
		fr.setCompressed(&msgs.CompressedImage{Format: "jpeg", Data: data}, 1)
		im, err := fr.image()
		if err != nil {
			return
		}
		if err := policy.CheckImageSize(im.Width, im.Height); err != nil {
			t.Fatalf("decoded a frame beyond the limits: %v", err)
		}
		if len(im.Data) < im.Step*im.Height {
			t.Fatalf("%dx%d frame, step %d, has %d bytes", im.Width, im.Height, im.Step, len(im.Data))
		}
	})
}
