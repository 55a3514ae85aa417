package main

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

// residentBytes sees live memory: 64 MB allocated, touched and kept alive
// raise it by about that much, and once garbage they no longer count.
func TestResidentBytesMeasuresLiveMemory(t *testing.T) {
	before := residentBytes()
	if before < 1<<20 {
		t.Fatalf("resident %d bytes: /proc/self/status not read", before)
	}
	live := make([]byte, 64<<20)
	for i := range live {
		live[i] = byte(i)
	}
	during := residentBytes()
	runtime.KeepAlive(live)
	live = nil
	after := residentBytes()
	if grown := during - before; grown < 56<<20 {
		t.Fatalf("64 MB live added %d bytes", grown)
	}
	if after-before > 16<<20 {
		t.Fatalf("64 MB of garbage still counted: %d bytes above the start", after-before)
	}
}

func TestRejectsWarmupBeyondTheRun(t *testing.T) {
	for _, args := range [][]string{{"-steps", "100", "-warmup", "100"}, {"-cycles", "10", "-cycle-warmup", "10"}} {
		if err := run(args, io.Discard); err == nil || !strings.Contains(err.Error(), "warmup") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
