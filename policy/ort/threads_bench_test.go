//go:build unix

package ort

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
// process at the same priority (as other nodes on a robot's computer), in
// this process's session and in its own (see busyLoop), on
// the shipped model and, when $DEER_VLA_WALLTIME_MODEL names it, the wide
// timing variant (see BenchmarkExitWallTime). It reports each
// configuration's mean step time, its ratio to one thread's, and the
// machine's load average at the end.
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
			busyLoop(b, false)
			benchThreads(b, m)
		})
		b.Run(name+"/busy-own-session", func(b *testing.B) {
			busyLoop(b, true)
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
	if load, ok := loadAverage(); ok {
		b.ReportMetric(load, "load-avg")
	}
	for i, tc := range threadConfigs {
		b.ReportMetric(float64(spent[i].Microseconds())/1e3/float64(b.N*steps), "ms-"+tc.name)
		if i > 0 {
			b.ReportMetric(float64(spent[i])/float64(spent[0]), "x-1thread-"+tc.name)
		}
	}
}

// loadAverage is the machine's one-minute load average (Linux), to say how
// busy "idle" was.
func loadAverage() (float64, bool) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// busyLoop keeps every core busy in a child process until the benchmark
// ends: the test binary itself, running TestBusyLoopHelper. Where Linux
// groups processes by session for scheduling (autogroup), a child in this
// process's session shares its group's time thread by thread, so more
// threads win more of it; a child in its own session (setsid), as another
// program would be, gets its own group's share whatever the thread counts.
func busyLoop(b *testing.B, ownSession bool) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^TestBusyLoopHelper$")
	cmd.Env = append(os.Environ(), busyLoopEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: ownSession}
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
