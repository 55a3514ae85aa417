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
