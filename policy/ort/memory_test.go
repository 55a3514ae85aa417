package ort

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
)

// rssMB reads this process's resident memory.
func rssMB(tb testing.TB) float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skipf("no /proc/self/statm: %v", err)
	}
	pages, _ := strconv.ParseFloat(strings.Fields(string(data))[1], 64)
	return pages * float64(os.Getpagesize()) / 1e6
}

// BenchmarkCapFreesMemory reports how much resident memory a memory cap at
// exit 1 frees (the deeper blocks' sessions are destroyed) and how long
// reloading them takes in the background, against the manifest's weight
// bytes of those blocks. Use the wide timing variant for clear figures:
//
//	DEER_VLA_WALLTIME_MODEL=/tmp/wide512 go test -run XXX -bench CapFreesMemory ./policy/ort
func BenchmarkCapFreesMemory(b *testing.B) {
	m := timingModel(b)
	n := len(m.Exits)
	fixed := float64(m.Encoder.WeightBytes+m.Head.WeightBytes) / policy.BytesPerMB
	capMB := fixed + float64(m.Exits[0].WeightBytes)/policy.BytesPerMB
	deeperMB := float64(m.Exits[n-1].WeightBytes-m.Exits[0].WeightBytes) / policy.BytesPerMB
	obs := randomObservation(m)
	e := newEngine(b, m, policy.Settings{}, nil)
	var freed, reload float64
	for i := 0; i < b.N; i++ {
		if _, err := e.Step(obs); err != nil {
			b.Fatal(err)
		}
		before := rssMB(b)
		if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{MemoryMB: capMB}}); err != nil {
			b.Fatal(err)
		}
		freed += before - rssMB(b)
		t0 := time.Now()
		if _, err := e.SetSettings(policy.Settings{}); err != nil {
			b.Fatal(err)
		}
		for {
			if k, err := e.LoadedExits(); err != nil {
				b.Fatal(err)
			} else if k == n {
				break
			}
			if _, err := e.Step(obs); err != nil { // steps go on meanwhile
				b.Fatal(err)
			}
		}
		reload += time.Since(t0).Seconds() * 1e3
	}
	b.ReportMetric(freed/float64(b.N), "MB-freed")
	b.ReportMetric(deeperMB, "MB-weights-of-deeper-blocks")
	b.ReportMetric(reload/float64(b.N), "ms-background-reload")
}

// A memory cap frees the deeper blocks' weights when their weights live in
// external-data files, as real models' do: resident memory falls by most
// of those blocks' bytes at once, and raising the cap loads them again in
// the background while steps go on.
func TestCapFreesExternalDataMemory(t *testing.T) {
	f := fakeModel{width: 2048, exits: 4, external: true} // 16 MiB a block
	m := loadManifest(t, writeFakeModel(t, f))
	e := newEngine(t, m, policy.Settings{}, nil)
	obs := &policy.Observation{Static: &policy.Image{Width: 4, Height: 4, Encoding: "rgb8", Data: make([]byte, 48)}, Instruction: "open the drawer"}
	if _, err := e.Step(obs); err != nil {
		t.Fatal(err)
	}
	capMB := float64(m.Encoder.WeightBytes+m.Head.WeightBytes+m.Exits[0].WeightBytes) / policy.BytesPerMB
	freedMB := float64(3*f.blockBytes()) / 1e6
	before := rssMB(t)
	if _, err := e.SetSettings(policy.Settings{Budget: policy.Budget{MemoryMB: capMB}}); err != nil {
		t.Fatal(err)
	}
	drop := before - rssMB(t)
	t.Logf("cap at exit 1: resident memory fell by %.1f MB; the 3 released blocks hold %.1f MB", drop, freedMB)
	if drop < 0.8*freedMB {
		t.Errorf("resident memory fell by %.1f MB, want at least 80%% of the released %.1f MB", drop, freedMB)
	}
	if r, err := e.Step(obs); err != nil || r.MaxExit != 1 {
		t.Fatalf("step under the cap: max exit %d, %v", r.MaxExit, err)
	}
	if _, err := e.SetSettings(policy.Settings{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := e.Step(obs) // steps go on while the blocks load
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxExit == f.exits {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the released blocks did not come back within 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	if back := rssMB(t) - (before - drop); back < 0.8*freedMB {
		t.Errorf("cap lifted, all blocks loaded, but resident memory rose by only %.1f MB", back)
	}
}
