package sim

import "math/rand/v2"

// Seed mixing constants for the two random streams of an episode.
const (
	worldStream  = 0x9e3779b97f4a7c15
	expertStream = 0xd1b54a32d192ed03
)

// Observation is what a policy sees after a reset or a step.
//
// Static and Gripper are rgb8 images, row-major with a row step of
// width*3 bytes. They are owned by the Env and overwritten by the next
// Step or Reset: copy them to keep them.
type Observation struct {
	Static           []byte
	StaticW, StaticH int
	Gripper          []byte
	GripperW         int
	GripperH         int
	// Instruction is the task in words, fixed for the episode.
	Instruction string
	// Proprio is the robot state, like CALVIN's robot_obs: effector x, y,
	// z (metres), roll, pitch, yaw (radians), gripper (+1 open, -1 closed).
	Proprio [7]float32
}

// StepInfo reports the outcome of one step.
type StepInfo struct {
	// Step is the number of steps taken in the episode, this one included.
	Step int
	// Done is true once the episode has ended, by success or timeout.
	Done bool
	// Success is true when the task is solved.
	Success bool
}

// Env is one simulated tabletop with its cameras. It is not safe for
// concurrent use; run one Env per goroutine.
type Env struct {
	cfg    Config
	rng    *rand.Rand
	pcg    *rand.PCG
	expRng *rand.Rand
	expPCG *rand.PCG
	st     State
	instr  string
	rnd    *renderer
}

// New returns an Env for cfg, reset to seed 0 with a random task.
func New(cfg Config) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Env{cfg: cfg.withDefaults(), pcg: rand.NewPCG(0, 0), expPCG: rand.NewPCG(0, 0), rnd: newRenderer()}
	e.rng, e.expRng = rand.New(e.pcg), rand.New(e.expPCG)
	e.Reset(0, RandomTask)
	return e, nil
}

// Reset starts a new episode drawn from seed: task family (task, or one
// drawn from the seed when task is RandomTask or 0), blocks, bins target,
// effector pose and instruction. It panics on an unknown task kind.
func (e *Env) Reset(seed uint64, task TaskKind) Observation {
	e.pcg.Seed(seed, worldStream)
	e.expPCG.Seed(seed, expertStream)
	e.instr = e.st.reset(e.rng, e.cfg.NumBlocks, task, e.cfg.MaxSteps)
	e.render()
	return e.observe()
}

// Step applies a (clipped) for one control step and returns the new
// observation. After the episode is done, Step changes nothing and
// reports Done again.
func (e *Env) Step(a Action) (Observation, StepInfo) {
	s := &e.st
	if !s.Done {
		s.apply(a, e.cfg.PosStepM, e.cfg.RotStepRad)
		s.Step++
		s.Success = Succeeded(s)
		s.Done = s.Success || s.Step >= s.MaxSteps
		e.render()
	}
	return e.observe(), StepInfo{Step: s.Step, Done: s.Done, Success: s.Success}
}

// State returns a copy of the true state.
func (e *Env) State() State { return e.st }

// Instruction returns the language instruction of the episode.
func (e *Env) Instruction() string { return e.instr }

// render draws both cameras unless rendering is skipped.
func (e *Env) render() {
	if !e.cfg.SkipRender {
		e.rnd.render(&e.st)
	}
}

// observe builds the observation of the current state.
func (e *Env) observe() Observation {
	ef := &e.st.Effector
	grip := float32(1)
	if ef.Closed {
		grip = -1
	}
	return Observation{
		Static: e.rnd.staticPix, StaticW: StaticSize, StaticH: StaticSize,
		Gripper: e.rnd.gripperPix, GripperW: GripperSize, GripperH: GripperSize,
		Instruction: e.instr,
		Proprio:     [7]float32{float32(ef.Pos[0]), float32(ef.Pos[1]), float32(ef.Pos[2]), 0, 0, float32(ef.Yaw), grip},
	}
}
