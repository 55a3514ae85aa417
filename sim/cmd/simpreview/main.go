// Command simpreview plays one scripted-expert episode of the sim package
// and writes PNGs of some of its frames, to check by eye what a policy sees.
//
// For every chosen frame it writes static_NNN.png (64x64), gripper_NNN.png
// (32x32) and view_NNN.png, both cameras enlarged side by side.
//
//	go run ./sim/cmd/simpreview -out /tmp/frames -task place -seed 3
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/deervla/deer_vla/sim"
)

func main() {
	out := flag.String("out", "simpreview", "folder to write the PNGs to")
	seed := flag.Uint64("seed", 1, "episode seed")
	task := flag.String("task", "pick", "task family: reach, push, pick or place")
	every := flag.Int("every", 5, "write every n-th frame (and the last)")
	noise := flag.Float64("noise", 0, "expert noise (sim.Config.ExpertNoise)")
	flag.Parse()

	kind, ok := parseTask(*task)
	if !ok {
		log.Fatalf("simpreview: unknown -task %q", *task)
	}
	if *every < 1 {
		log.Fatalf("simpreview: -every is %d, want >= 1", *every)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	env, err := sim.New(sim.Config{ExpertNoise: *noise})
	if err != nil {
		log.Fatal(err)
	}

	// Play the episode, writing the chosen frames.
	obs := env.Reset(*seed, kind)
	fmt.Printf("instruction: %q\n", obs.Instruction)
	for step := 0; ; step++ {
		a, phase := env.ExpertStep()
		var info sim.StepInfo
		if step%*every == 0 {
			if err := writeFrame(*out, step, obs); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("frame %03d phase %-8s action %+.2f\n", step, phase, a.Pose)
		}
		obs, info = env.Step(a)
		if info.Done {
			if err := writeFrame(*out, info.Step, obs); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("frame %03d done, success %v\n", info.Step, info.Success)
			return
		}
	}
}

// parseTask maps a family name to its kind.
func parseTask(name string) (sim.TaskKind, bool) {
	for _, k := range sim.AllTasks {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// writeFrame writes the three PNGs of one observation.
func writeFrame(dir string, step int, obs sim.Observation) error {
	st := toImage(obs.Static, obs.StaticW, obs.StaticH, 1)
	gr := toImage(obs.Gripper, obs.GripperW, obs.GripperH, 1)
	big := image.NewRGBA(image.Rect(0, 0, 2*256+8, 256))
	paste(big, toImage(obs.Static, obs.StaticW, obs.StaticH, 256/obs.StaticW), 0)
	paste(big, toImage(obs.Gripper, obs.GripperW, obs.GripperH, 256/obs.GripperW), 256+8)
	for name, img := range map[string]image.Image{"static": st, "gripper": gr, "view": big} {
		if err := writePNG(filepath.Join(dir, fmt.Sprintf("%s_%03d.png", name, step)), img); err != nil {
			return err
		}
	}
	return nil
}

// toImage converts an rgb8 buffer to an image enlarged k times.
func toImage(pix []byte, w, h, k int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*k, h*k))
	for y := range h * k {
		for x := range w * k {
			o := ((y/k)*w + x/k) * 3
			img.SetRGBA(x, y, color.RGBA{pix[o], pix[o+1], pix[o+2], 255})
		}
	}
	return img
}

// paste copies src into dst at column x0.
func paste(dst *image.RGBA, src *image.RGBA, x0 int) {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(x0+x, y, src.At(x, y))
		}
	}
}

// writePNG writes img to path.
func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
