package ort

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
)

// threadConfigs are the runtime settings BenchmarkThreads compares: one
// thread (the node's default), and ONNX Runtime's choice of threads with
// its worker threads spinning (its own default) and sleeping.
var threadConfigs = []struct {
	name string
	cfg  Config
}{
	{"1thread", Config{IntraOpThreads: 1}},
	{"ort-spin", Config{IntraOpThreads: 0, AllowSpinning: true}},
	{"ort-nospin", Config{IntraOpThreads: 0}},
}

// BenchmarkThreads times full-depth steps under each of threadConfigs,
// side by side: the configurations take turns, 20 steps each, b.N rounds,
// so that a change in the machine's load falls on all of them alike. It
// runs with no added load, and with a busy loop on every core in another
// process at the same priority (as other nodes on a robot's computer), on
// the shipped model and, when $DEER_VLA_WALLTIME_MODEL names it, the wide
// timing variant (see BenchmarkExitWallTime). It reports each
// configuration's mean step time, and its ratio to one thread's.
//
//	go test -run XXX -bench Threads -benchtime 5x ./policy/ort
func BenchmarkThreads(b *testing.B) {
	models := [][2]string{{"deer_tiny", filepath.Join(repoRoot(b), "models", "deer_tiny")}}
	if dir := os.Getenv("DEER_VLA_WALLTIME_MODEL"); dir != "" {
		models = append(models, [2]string{"wide", dir})
	}
	for _, model := range models {
		name := model[0]
		m, err := policy.LoadManifest(model[1])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/idle", func(b *testing.B) { benchThreads(b, m) })
		b.Run(name+"/busy", func(b *testing.B) {
			busyLoop(b)
			benchThreads(b, m)
		})
	}
}

func benchThreads(b *testing.B, m *policy.Manifest) {
	const steps = 20
	never := make([]float64, len(m.Exits))
	for i := range never {
		never[i] = -1
	}
	obs := randomObservation(m)
	engines := make([]*policy.Engine, len(threadConfigs))
	for i, tc := range threadConfigs {
		cfg := tc.cfg
		cfg.Library = libraryPath(b)
		be, err := Open(m, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if engines[i], err = policy.New(policy.Config{Manifest: m, Backend: be, Settings: policy.Settings{Thresholds: never}}); err != nil {
			b.Fatal(err)
		}
		defer engines[i].Close()
	}
	spent := make([]time.Duration, len(engines))
	b.ResetTimer()
	for round := -1; round < b.N; round++ { // round -1 warms up
		for i, e := range engines {
			time.Sleep(20 * time.Millisecond) // let the last configuration's threads go idle
			t0 := time.Now()
			for range steps {
				if _, err := e.Step(obs); err != nil {
					b.Fatal(err)
				}
			}
			if round >= 0 {
				spent[i] += time.Since(t0)
			}
		}
	}
	b.StopTimer()
	for i, tc := range threadConfigs {
		b.ReportMetric(float64(spent[i].Microseconds())/1e3/float64(b.N*steps), "ms-"+tc.name)
		if i > 0 {
			b.ReportMetric(float64(spent[i])/float64(spent[0]), "x-1thread-"+tc.name)
		}
	}
}

// busyLoop keeps every core busy in a child process until the benchmark
// ends: the test binary itself, running TestBusyLoopHelper.
func busyLoop(b *testing.B) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^TestBusyLoopHelper$")
	cmd.Env = append(os.Environ(), busyLoopEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the helper exits at end of input
		cmd.Wait()
	})
	time.Sleep(100 * time.Millisecond) // let it start spinning
}

const busyLoopEnv = "DEER_VLA_BUSY_LOOP"

// TestBusyLoopHelper is BenchmarkThreads's load, not a test: with
// $DEER_VLA_BUSY_LOOP set, it spins one goroutine per core until its
// standard input closes.
func TestBusyLoopHelper(t *testing.T) {
	if os.Getenv(busyLoopEnv) == "" {
		return
	}
	for range runtime.NumCPU() {
		go func() {
			for x := 0; ; x++ {
				_ = x
			}
		}()
	}
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
