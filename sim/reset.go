package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Spawn region and spacing of a new world, in metres and radians.
const (
	spawnHalfX   = 0.45
	spawnHalfY   = 0.6
	minBlockDist = 0.3
	effStartHalf = 0.4
	effStartMinZ = 0.4
	effStartMaxZ = 0.6
	effStartYaw  = 0.4
)

// reset draws a new world and task from r. numBlocks 0 draws 3 or 4;
// maxSteps 0 uses the family's length. It returns the instruction.
func (s *State) reset(r *rand.Rand, numBlocks int, task TaskKind, maxSteps int) string {
	switch {
	case task == RandomTask || task == 0:
		task = AllTasks[r.IntN(NumTasks)]
	case !task.Valid():
		panic(fmt.Sprintf("sim: unknown task kind %d", int(task)))
	}
	if numBlocks == 0 {
		numBlocks = 3 + r.IntN(2)
	}
	if maxSteps == 0 {
		maxSteps = task.MaxSteps()
	}
	*s = State{Task: task, MaxSteps: maxSteps, NumBlocks: numBlocks, Held: -1}

	colours := [MaxBlocks]Colour{Red, Green, Blue, Yellow}
	for i := len(colours) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		colours[i], colours[j] = colours[j], colours[i]
	}
	for i := range numBlocks {
		s.Blocks[i] = Block{Colour: colours[i], Pos: freeSpot(r, s.Blocks[:i]), Yaw: uniform(r, -math.Pi/4, math.Pi/4)}
	}
	s.Effector = Effector{
		Pos: [3]float64{
			uniform(r, -effStartHalf, effStartHalf),
			uniform(r, -effStartHalf, effStartHalf),
			uniform(r, effStartMinZ, effStartMaxZ),
		},
		Yaw: uniform(r, -effStartYaw, effStartYaw),
	}
	s.Target = r.IntN(numBlocks)
	s.StartX = s.Blocks[s.Target].Pos[0]
	if task == TaskPlace {
		s.Bin = Left + Side(r.IntN(2))
	}
	return instruction(s, r.IntN(2))
}

// freeSpot draws a block centre at least minBlockDist from every placed
// block. The spawn area holds four blocks easily; after many rejections it
// keeps the last draw rather than loop forever.
func freeSpot(r *rand.Rand, placed []Block) [3]float64 {
	var p [3]float64
	for range 1000 {
		p = [3]float64{uniform(r, -spawnHalfX, spawnHalfX), uniform(r, -spawnHalfY, spawnHalfY), BlockHalf}
		ok := true
		for _, b := range placed {
			if math.Hypot(b.Pos[0]-p[0], b.Pos[1]-p[1]) < minBlockDist {
				ok = false
				break
			}
		}
		if ok {
			break
		}
	}
	return p
}

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
