// Command deer_vla_export_bench measures an exported DeeR-VLA model folder
// (a real-size one: tools/export/bench_real.sh makes and runs it) in the Go
// engine with ONNX Runtime: resident memory once loaded and after a live
// memory cap at exit 1, each stage's wall time, the step time at full depth
// and at exit 1, and the decoder's wall-time saving against its FLOP saving.
// With -split (tools/export/bench_split.py's folder) it also times the
// encoder's vision tower and resampler on their own, for the share of the
// step every exit pays.
//
//	deer_vla_export_bench -model DIR [-split DIR] [-steps 5] [-threads 2] [-json FILE]
//
// It is a command, not a test: CI has no real-size model.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/ort"
)

// Report is what the command measures; -json writes it.
type Report struct {
	Model       string             `json:"model"`
	Threads     int                `json:"threads"`
	Steps       int                `json:"steps"`
	Tokens      int                `json:"max_tokens"`
	RSSBeforeMB float64            `json:"rss_before_load_mb"`
	RSSLoadMB   float64            `json:"rss_loaded_mb"`
	RSSFirstMB  float64            `json:"rss_after_first_step_mb"`
	RSSCapMB    float64            `json:"rss_capped_exit1_mb"`
	CapMB       float64            `json:"memory_cap_mb"`
	Full        Phase              `json:"full_depth"`
	Exit1       Phase              `json:"exit_1"`
	Split       map[string]float64 `json:"split_ms,omitempty"` // median ms: vision, resampler
	GFLOPs      []float64          `json:"exit_gflops"`        // cumulative decoder GFLOPs per exit
	WeightMB    []float64          `json:"exit_weight_mb"`     // cumulative block weights per exit
}

// Phase is the median stage times of the timed steps, in ms.
type Phase struct {
	Exit    int       `json:"exit"`
	Encoder float64   `json:"encoder_ms"`
	Blocks  []float64 `json:"block_ms"`
	Head    float64   `json:"head_ms"` // all head evaluations of the step
	HeadN   int       `json:"head_evaluations"`
	Total   float64   `json:"step_ms"`
}

func main() {
	model := flag.String("model", "", "exported model folder")
	split := flag.String("split", "", "folder written by tools/export/bench_split.py (optional)")
	lib := flag.String("library", os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"), "ONNX Runtime shared library")
	steps := flag.Int("steps", 5, "timed steps per phase (after one warm-up step)")
	threads := flag.Int("threads", 2, "ONNX Runtime intra-op threads per stage")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	splitOnly := flag.Bool("split-only", false, "only time -split's graphs, not the engine")
	flag.Parse()
	if *model == "" || *lib == "" || *steps < 1 {
		fmt.Fprintln(os.Stderr, "usage: deer_vla_export_bench -model DIR [-split DIR] [-steps N] [-threads N] [-json FILE] (and -library or ONNXRUNTIME_SHARED_LIBRARY_PATH)")
		os.Exit(2)
	}
	cfg := ort.Config{Library: *lib, IntraOpThreads: *threads}
	if *splitOnly {
		times, err := timeSplit(*split, cfg, *steps)
		if err != nil {
			fmt.Fprintln(os.Stderr, "deer_vla_export_bench:", err)
			os.Exit(1)
		}
		fmt.Println("median ms:", times)
		return
	}
	rep, err := run(*model, *split, cfg, *steps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deer_vla_export_bench:", err)
		os.Exit(1)
	}
	fmt.Print(rep.table())
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(rep, "", " ")
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "deer_vla_export_bench:", err)
			os.Exit(1)
		}
	}
}

func run(dir, split string, cfg ort.Config, steps int) (*Report, error) {
	m, err := policy.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	n := len(m.Exits)
	rep := &Report{Model: dir, Threads: cfg.IntraOpThreads, Steps: steps, Tokens: m.Tokenizer.MaxTokens}
	for _, x := range m.Exits {
		rep.GFLOPs = append(rep.GFLOPs, x.GFLOPs)
		rep.WeightMB = append(rep.WeightMB, float64(x.WeightBytes)/1e6)
	}
	rep.RSSBeforeMB = rssMB()
	be, err := ort.Open(m, cfg)
	if err != nil {
		return nil, err
	}
	never := make([]float64, n) // negative: never exit early, every step runs to the deepest exit
	for i := range never {
		never[i] = -1
	}
	e, err := policy.New(policy.Config{Manifest: m, Backend: be, Settings: policy.Settings{Thresholds: never}})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	rep.RSSLoadMB = rssMB()
	obs := observations(m)
	if rep.Full, err = phase(e, obs, steps); err != nil {
		return nil, err
	}
	rep.RSSFirstMB = rssMB()

	// The live memory cap: what exit 1 needs (encoder, head and block 1,
	// as the engine counts it), rounded up to a whole MB.
	rep.CapMB = math.Ceil(float64(m.Encoder.WeightBytes+m.Head.WeightBytes+m.Exits[0].WeightBytes) / 1e6)
	if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{MemoryMB: rep.CapMB}, Thresholds: never}); err != nil {
		return nil, fmt.Errorf("memory cap %g MB: %w", rep.CapMB, err)
	}
	if rep.Exit1, err = phase(e, obs, steps); err != nil {
		return nil, err
	}
	if rep.Exit1.Exit != 1 {
		return nil, fmt.Errorf("memory cap %g MB: steps ran to exit %d, not 1", rep.CapMB, rep.Exit1.Exit)
	}
	runtime.GC()
	debug.FreeOSMemory()
	rep.RSSCapMB = rssMB()

	if split != "" {
		if rep.Split, err = timeSplit(split, cfg, steps); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// observations are seeded noise images at CALVIN's sizes (200x200 static,
// 84x84 gripper) and a CALVIN instruction, one per step.
func observations(m *policy.Manifest) []*policy.Observation {
	rng := rand.New(rand.NewPCG(21, 2))
	img := func(w, h int) *policy.Image {
		data := make([]byte, 3*w*h)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		return &policy.Image{Width: w, Height: h, Encoding: "rgb8", Data: data}
	}
	var obs []*policy.Observation
	for i := 0; i < 8; i++ {
		obs = append(obs, &policy.Observation{Static: img(200, 200), Gripper: img(84, 84),
			Instruction: "take the red block and rotate it to the right"})
	}
	return obs
}

// phase runs one warm-up step and steps timed steps, and returns the median
// of each stage's time.
func phase(e *policy.Engine, obs []*policy.Observation, steps int) (Phase, error) {
	var enc, head, total []float64
	blocks := make([][]float64, policy.MaxExits)
	var p Phase
	for s := 0; s <= steps; s++ {
		r, err := e.Step(obs[s%len(obs)])
		if err != nil {
			return p, err
		}
		if s == 0 {
			continue
		}
		p.Exit, p.HeadN = r.Exit, r.NumDistances+1
		enc = append(enc, ms(r.EncoderTime))
		head = append(head, ms(r.HeadTime))
		total = append(total, ms(r.Total))
		for k := 0; k < r.Exit; k++ {
			blocks[k] = append(blocks[k], ms(r.BlockTime[k]))
		}
	}
	p.Encoder, p.Head, p.Total = median(enc), median(head), median(total)
	for k := 0; k < p.Exit; k++ {
		p.Blocks = append(p.Blocks, median(blocks[k]))
	}
	return p, nil
}

type piece struct {
	Name    string           `json:"name"`
	File    string           `json:"file"`
	Inputs  []ort.GraphInput `json:"inputs"`
	Outputs []string         `json:"outputs"`
}

func timeSplit(dir string, cfg ort.Config, runs int) (map[string]float64, error) {
	data, err := os.ReadFile(filepath.Join(dir, "split.json"))
	if err != nil {
		return nil, err
	}
	var pieces []piece
	if err := json.Unmarshal(data, &pieces); err != nil {
		return nil, fmt.Errorf("%s/split.json: %w", dir, err)
	}
	out := map[string]float64{}
	for _, p := range pieces {
		times, err := ort.TimeGraph(cfg, filepath.Join(dir, p.File), p.Inputs, p.Outputs, 1, runs)
		if err != nil {
			return nil, err
		}
		var v []float64
		for _, t := range times {
			v = append(v, ms(t))
		}
		out[p.Name] = median(v)
	}
	return out, nil
}

func (r *Report) table() string {
	var b strings.Builder
	f, x := r.Full, r.Exit1
	fmt.Fprintf(&b, "model %s, %d intra-op threads, median of %d steps, prompt padded to %d tokens\n", r.Model, r.Threads, r.Steps, r.Tokens)
	fmt.Fprintf(&b, "resident memory: %.0f MB before load, %.0f MB loaded, %.0f MB after the first steps, %.0f MB with a live %.0f MB cap at exit 1\n",
		r.RSSBeforeMB, r.RSSLoadMB, r.RSSFirstMB, r.RSSCapMB, r.CapMB)
	fmt.Fprintf(&b, "%-28s %10s %10s\n", "stage (ms)", "full", "exit 1")
	if v, ok := r.Split["vision"]; ok {
		fmt.Fprintf(&b, "%-28s %10.1f %10s\n", "  vision (2 cameras), alone", v, "same")
	}
	if v, ok := r.Split["resampler"]; ok {
		fmt.Fprintf(&b, "%-28s %10.1f %10s\n", "  resampler (2), alone", v, "same")
	}
	if v, ok := r.Split["layer0"]; ok {
		fmt.Fprintf(&b, "%-28s %10.1f %10s\n", "  layer 0 + embedding, alone", v, "same")
	}
	fmt.Fprintf(&b, "%-28s %10.1f %10.1f\n", "encoder (all of it)", f.Encoder, x.Encoder)
	for k, t := range f.Blocks {
		xs := "-"
		if k < len(x.Blocks) {
			xs = fmt.Sprintf("%.1f", x.Blocks[k])
		}
		fmt.Fprintf(&b, "%-28s %10.1f %10s\n", "block "+strconv.Itoa(k+1), t, xs)
	}
	fmt.Fprintf(&b, "%-28s %10.1f %10.1f\n", fmt.Sprintf("head (%d / %d evaluations)", f.HeadN, x.HeadN), f.Head, x.Head)
	fmt.Fprintf(&b, "%-28s %10.1f %10.1f\n", "step", f.Total, x.Total)
	decF, decX := sum(f.Blocks), sum(x.Blocks)
	if len(r.GFLOPs) > 0 && decF > 0 {
		// The manifest's GFLOPs count decoder layer 0 with every exit, but
		// layer 0 runs inside the encoder stage, outside the timed blocks.
		// The blocks-only figure takes it out at exit 1's per-layer cost
		// (exit 1 = layers 0 and 1, alike when every layer has cross-attention).
		gn, g1 := r.GFLOPs[len(r.GFLOPs)-1], r.GFLOPs[0]
		fmt.Fprintf(&b, "decoder blocks: %.1f ms -> %.1f ms (wall-time saving %.1f%%); decoder GFLOPs %.3g -> %.3g (FLOP saving %.1f%%; blocks only, layer 0 at %.3g: %.1f%%)\n",
			decF, decX, 100*(1-decX/decF), gn, g1, 100*(1-g1/gn), g1/2, 100*(1-(g1/2)/(gn-g1/2)))
	}
	if v, ok := r.Split["layer0"]; ok && len(r.GFLOPs) > 0 && decF > 0 {
		gn, g1 := r.GFLOPs[len(r.GFLOPs)-1], r.GFLOPs[0]
		fmt.Fprintf(&b, "decoder with layer 0 (timed alone): %.1f ms -> %.1f ms (wall-time saving %.1f%% for a FLOP saving of %.1f%%)\n",
			v+decF, v+decX, 100*(1-(v+decX)/(v+decF)), 100*(1-g1/gn))
	}
	if v, ok := r.Split["vision"]; ok {
		fmt.Fprintf(&b, "vision share of the step: %.0f%% at full depth, %.0f%% at exit 1\n", 100*v/f.Total, 100*v/x.Total)
	}
	return b.String()
}

func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}
