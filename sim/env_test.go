package sim

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"math"
	"strings"
	"testing"
)

// episodeHash plays one noisy expert episode and hashes every image, the
// proprio and the state after every step.
func episodeHash(tb testing.TB, seed uint64, task TaskKind) uint64 {
	tb.Helper()
	env := mustNew(tb, Config{ExpertNoise: 0.1})
	h := fnv.New64a()
	obs := env.Reset(seed, task)
	for {
		h.Write(obs.Static)
		h.Write(obs.Gripper)
		h.Write([]byte(obs.Instruction))
		binary.Write(h, binary.LittleEndian, obs.Proprio)
		hashState(h, env.State())
		var info StepInfo
		obs, info = env.Step(env.Expert())
		if info.Done {
			return h.Sum64()
		}
	}
}

// hashState writes the numbers of s to w.
func hashState(w interface{ Write([]byte) (int, error) }, s State) {
	var buf [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
		w.Write(buf[:])
	}
	for i := range s.NumBlocks {
		b := s.Blocks[i]
		put(b.Pos[0])
		put(b.Pos[1])
		put(b.Pos[2])
		put(b.Yaw)
	}
	put(s.Effector.Pos[0])
	put(s.Effector.Pos[1])
	put(s.Effector.Pos[2])
	put(s.Effector.Yaw)
	put(float64(s.Held))
}

func TestDeterminism(t *testing.T) {
	for _, task := range []TaskKind{TaskPlace, TaskPush} {
		t.Run(task.String(), func(t *testing.T) {
			a, b := episodeHash(t, 42, task), episodeHash(t, 42, task)
			if a != b {
				t.Fatalf("same seed, different episodes: %x != %x", a, b)
			}
			if c := episodeHash(t, 43, task); c == a {
				t.Fatalf("seeds 42 and 43 gave the same episode %x", a)
			}
		})
	}
}

func TestResetRestartsTheSameEpisode(t *testing.T) {
	env := mustNew(t, Config{})
	first := env.Reset(9, RandomTask)
	static := bytes.Clone(first.Static)
	state := env.State()
	for range 10 {
		env.Step(env.Expert())
	}
	again := env.Reset(9, RandomTask)
	if !bytes.Equal(again.Static, static) || env.State() != state || again.Instruction != first.Instruction {
		t.Fatal("Reset with the same seed gave a different start")
	}
}

func TestStepAllocs(t *testing.T) {
	env := mustNew(t, Config{ExpertNoise: 0.1})
	env.Reset(5, TaskPlace)
	allocs := testing.AllocsPerRun(50, func() {
		if _, info := env.Step(env.Expert()); info.Done {
			t.Fatal("episode ended during the allocation test")
		}
	})
	if allocs != 0 {
		t.Fatalf("Step+Expert allocate %v times per step, want 0", allocs)
	}
}

func TestImagesChangeWhenEffectorMoves(t *testing.T) {
	env := mustNew(t, Config{})
	obs := env.Reset(2, TaskReach)
	static, gripper := bytes.Clone(obs.Static), bytes.Clone(obs.Gripper)
	obs, _ = env.Step(Action{})
	if !bytes.Equal(obs.Static, static) || !bytes.Equal(obs.Gripper, gripper) {
		t.Fatal("images changed although nothing moved")
	}
	obs, _ = env.Step(Action{Pose: [6]float32{1, 1, 0}})
	if bytes.Equal(obs.Static, static) {
		t.Fatal("static image did not change when the effector moved")
	}
	if bytes.Equal(obs.Gripper, gripper) {
		t.Fatal("gripper image did not change when the effector moved")
	}
	if &obs.Static[0] != &env.rnd.staticPix[0] {
		t.Fatal("observation does not reuse the Env's buffer")
	}
}

func TestObservationShape(t *testing.T) {
	env := mustNew(t, Config{})
	obs := env.Reset(1, TaskPick)
	if obs.StaticW != 64 || obs.StaticH != 64 || len(obs.Static) != 64*64*3 {
		t.Fatalf("static image %dx%d, %d bytes", obs.StaticW, obs.StaticH, len(obs.Static))
	}
	if obs.GripperW != 32 || obs.GripperH != 32 || len(obs.Gripper) != 32*32*3 {
		t.Fatalf("gripper image %dx%d, %d bytes", obs.GripperW, obs.GripperH, len(obs.Gripper))
	}
	e := env.State().Effector
	if obs.Proprio[0] != float32(e.Pos[0]) || obs.Proprio[2] != float32(e.Pos[2]) || obs.Proprio[6] != 1 {
		t.Fatalf("proprio %v does not match the effector %+v", obs.Proprio, e)
	}
}

func TestStepAfterDone(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true})
	r := Run(env, ExpertPolicy{}, 4, TaskReach)
	if !r.Success {
		t.Fatalf("expert failed: %+v", r)
	}
	before := env.State()
	_, info := env.Step(Action{Pose: [6]float32{1, 1, 1}})
	if !info.Done || !info.Success || info.Step != r.Steps || env.State() != before {
		t.Fatalf("Step after done changed the episode: info %+v", info)
	}
}

func TestTimeout(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true})
	for _, task := range AllTasks {
		r := Run(env, NoopPolicy{}, 8, task)
		if r.Success || r.Steps != task.MaxSteps() {
			t.Fatalf("%v: noop run %+v, want timeout after %d steps", task, r, task.MaxSteps())
		}
	}
}

func TestResetLayout(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true})
	seen := map[TaskKind]int{}
	blocks := map[int]int{}
	for seed := range uint64(200) {
		obs := env.Reset(seed, RandomTask)
		s := env.State()
		seen[s.Task]++
		blocks[s.NumBlocks]++
		for i := range s.NumBlocks {
			for j := range i {
				bi, bj := s.Blocks[i].Pos, s.Blocks[j].Pos
				if d := math.Hypot(bi[0]-bj[0], bi[1]-bj[1]); d < minBlockDist {
					t.Fatalf("seed %d: blocks %d and %d only %g apart", seed, i, j, d)
				}
			}
		}
		c := s.TargetBlock().Colour.String()
		if !strings.Contains(obs.Instruction, c) {
			t.Fatalf("seed %d: instruction %q does not name the %s target", seed, obs.Instruction, c)
		}
		if s.Task == TaskPlace && !strings.Contains(obs.Instruction, s.Bin.String()+" bin") {
			t.Fatalf("seed %d: instruction %q does not name the %v bin", seed, obs.Instruction, s.Bin)
		}
		if Succeeded(&s) {
			t.Fatalf("seed %d: %v task solved at reset", seed, s.Task)
		}
	}
	for _, task := range AllTasks {
		if seen[task] < 20 {
			t.Fatalf("RandomTask drew %v only %d times in 200 seeds", task, seen[task])
		}
	}
	if blocks[3] == 0 || blocks[4] == 0 {
		t.Fatalf("block counts %v, want both 3 and 4", blocks)
	}
}

func TestResetPanicsOnUnknownTask(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true})
	defer func() {
		if recover() == nil {
			t.Fatal("Reset(…, 9) did not panic")
		}
	}()
	env.Reset(1, 9)
}
