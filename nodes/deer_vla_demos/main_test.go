package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/deervla/deer_vla/bag"
	"github.com/deervla/deer_vla/msgs"
	"github.com/deervla/deer_vla/sim"
)

func TestRecordDeterministicAndReadable(t *testing.T) {
	o := options{Episodes: 3, Seed: 7, Tasks: sim.AllTasks[:], Noise: 0.05, PeriodNanos: 1e8}
	var files [2][]byte
	var st stats
	for i := range files {
		dir := filepath.Join(t.TempDir(), "demo")
		var err error
		if st, err = record(dir, o); err != nil {
			t.Fatal(err)
		}
		if files[i], err = os.ReadFile(filepath.Join(dir, "demo_0.mcap")); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			checkBag(t, dir, st)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("two recordings with the same options differ")
	}
}

// checkBag reads the bag back: an instruction first in every episode, and
// per step both images and the action with the step's stamp as log time.
func checkBag(t *testing.T, dir string, st stats) {
	r, err := bag.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	counts := map[string]int{}
	var m bag.Message
	last := ""
	for {
		err := r.Next(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		counts[m.Topic]++
		switch m.Topic {
		case TopicStatic, TopicGripper:
			var im msgs.Image
			if err := im.UnmarshalCDR(m.Data); err != nil {
				t.Fatal(err)
			}
			if im.Header.Stamp.Nanos() != m.LogTimeNanos || im.Encoding != "rgb8" {
				t.Fatalf("%s: stamp %d, log time %d, encoding %s", m.Topic, im.Header.Stamp.Nanos(), m.LogTimeNanos, im.Encoding)
			}
		case TopicAction:
			var a msgs.Action
			if err := a.UnmarshalCDR(m.Data); err != nil {
				t.Fatal(err)
			}
			if a.Header.Stamp.Nanos() != m.LogTimeNanos || a.ExitIndex != 0 {
				t.Fatalf("action: stamp %d, log time %d, exit %d", a.Header.Stamp.Nanos(), m.LogTimeNanos, a.ExitIndex)
			}
		case TopicInstruction:
			if last == TopicStatic {
				t.Fatal("an instruction between a step's images")
			}
		}
		last = m.Topic
	}
	if counts[TopicInstruction] != st.Episodes || counts[TopicStatic] != st.Steps ||
		counts[TopicGripper] != st.Steps || counts[TopicAction] != st.Steps {
		t.Fatalf("counts %v for %+v", counts, st)
	}
}

func TestRecordState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	st, err := record(dir, options{Episodes: 2, Seed: 3, Tasks: []sim.TaskKind{sim.TaskPlace}, PeriodNanos: 1e8, State: true})
	if err != nil {
		t.Fatal(err)
	}
	checkBag(t, dir, st)
	r, err := bag.Open(dir, bag.WithTopics(TopicState))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var m bag.Message
	n := 0
	for {
		err := r.Next(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var s msgs.String
		if err := s.UnmarshalCDR(m.Data); err != nil {
			t.Fatal(err)
		}
		var js simState
		if err := json.Unmarshal([]byte(s.Data), &js); err != nil {
			t.Fatal(err)
		}
		if js.Task != int(sim.TaskPlace) || js.Bin == 0 || len(js.Blocks) < 3 || js.Target >= len(js.Blocks) {
			t.Fatalf("state %s", s.Data)
		}
		n++
	}
	if n != st.Steps {
		t.Fatalf("%d states for %d steps", n, st.Steps)
	}
}
