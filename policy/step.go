package policy

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Observation is one control step's input.
type Observation struct {
	Static      *Image // required
	Gripper     *Image // required when the model has a gripper camera
	Instruction string // required; a new instruction resets the episode
	// Deadline, optional, is when the step must end, on the engine's
	// clock ([Engine.Now]). The engine checks it between stages (a stage
	// that runs is not interrupted): before the encoder and before each
	// block. Past it, the step ends at the deepest exit already evaluated,
	// whose action is as valid a DeeR candidate as any (StepResult.
	// DeadlineCut); with no exit evaluated yet it fails with ErrDeadline
	// and commits nothing. The zero value means no deadline.
	Deadline time.Time
}

// ErrDeadline is the error (inside a [StepError]) of a step whose deadline
// passed before its first exit.
var ErrDeadline = errors.New("policy: the deadline passed before the first exit")

// Action is the 7-DoF action to execute.
type Action struct {
	Pose        [PoseDims]float32 // relative pose deltas, times the manifest's pose_scale
	Gripper     float32           // +1 open, -1 close
	GripperProb float32           // the head's probability of open
}

// StepResult is the action and the record of how it was decided. It holds
// no references into the engine.
type StepResult struct {
	Action Action
	Exit   int  // exit taken, 1-based
	Held   bool // exit reused from an earlier decision (no distances)
	Reset  bool // this step is the first of a new episode
	// DeadlineCut: Observation.Deadline passed before the exit rule
	// chose, so the step ended at the deepest exit evaluated (Exit), or,
	// with an ErrDeadline error, before any exit (Exit 0).
	DeadlineCut bool
	GFLOPs      float64 // decoder GFLOPs spent: the exit's cumulative cost
	// MaxExit is the deepest exit allowed at this step: the budgets' cap,
	// or fewer while deeper blocks are still loading.
	MaxExit int
	// Distances[i] is exit i+1's distance from the previous candidate, for
	// the NumDistances exits evaluated.
	NumDistances int
	Distances    [MaxExits]float64
	// Thresholds[i] is exit i+1's threshold in force, for MaxExit exits.
	Thresholds [MaxExits]float64
	// SolvedGFLOPs is the average budget the thresholds in force were
	// solved for: the user's, as corrected by Settings.BudgetWindow's
	// tracking; 0 when they were not solved from a calibration.
	SolvedGFLOPs float64
	// Stage wall times: encoder, each block run (BlockTime[i] for exit
	// i+1), all head evaluations together, and the whole step.
	EncoderTime time.Duration
	BlockTime   [MaxExits]time.Duration
	HeadTime    time.Duration
	Total       time.Duration
}

// Step runs one control step: the encoder, then exits in order until one is
// stable by the DeeR rule, then commits that exit's recurrent state. See
// doc.go for the rule.
//
// A step that fails returns a *StepError naming the stage, and commits
// nothing: the recurrent state, the held exit and the budget tracker are as
// they were (an instruction that was new stays taken, its episode started).
// A panic in a stage (the backend's, preprocessing's) is recovered into
// such an error, so that a caller can go on with the next input.
func (e *Engine) Step(obs *Observation) (r StepResult, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return r, ErrClosed
	}
	e.at = partPlan
	defer e.recoverStep(&err)
	start := e.clock()
	pl := e.plan.Load()
	e.tracker.track(pl)
	n := min(pl.MaxExit, e.sess.loaded)
	r.MaxExit = n
	copy(r.Thresholds[:n], e.tracker.th)
	r.Thresholds[n-1] = math.Inf(1)
	r.SolvedGFLOPs = e.tracker.solved

	e.at = partInput
	if err := e.loadInputs(obs); err != nil {
		return r, err
	}
	e.at = partEncoder
	if e.pastDeadline(obs) {
		return r, e.cutBeforeExits(&r)
	}
	t0 := e.clock()
	if err := e.be.Run(encoderStage); err != nil {
		return r, &StepError{"encoder", err}
	}
	r.EncoderTime = e.clock().Sub(t0)

	var exit int
	if e.ep.holdLeft > 0 {
		exit, err = e.runHeld(min(e.ep.holdExit, n), obs, &r)
	} else {
		exit, err = e.runExits(n, pl, obs, &r)
	}
	if err != nil {
		return r, err
	}
	e.at = partAction
	if err := e.setAction(exit, pl, &r); err != nil {
		return r, &StepError{"action", err}
	}
	e.commit(exit, pl, &r)
	r.Total = e.clock().Sub(start)
	return r, nil
}

// commit makes the chosen exit's step the engine's: its recurrent state
// (the head's last evaluation was that exit's), the hold and the budget
// tracker's record. Nothing in it can fail.
func (e *Engine) commit(exit int, pl *Plan, r *StepResult) {
	for i, s := range e.t.stateIn {
		copy(s, e.t.stateOut[i])
	}
	switch {
	case r.Held:
		e.ep.holdLeft--
	case pl.HoldSteps > 0:
		e.ep.holdExit, e.ep.holdLeft = exit, pl.HoldSteps
	}
	r.Reset = e.ep.steps == 0
	e.ep.steps++
	r.Exit = exit
	r.GFLOPs = e.m.Exits[exit-1].GFLOPs
	e.tracker.record(r.GFLOPs, e.planner.cost)
}

// pastDeadline reports whether the observation's deadline has passed.
func (e *Engine) pastDeadline(obs *Observation) bool {
	return !obs.Deadline.IsZero() && !e.clock().Before(obs.Deadline)
}

// cutBeforeExits ends a step whose deadline passed before its first exit.
func (e *Engine) cutBeforeExits(r *StepResult) error {
	r.DeadlineCut = true
	return &StepError{e.at.String(), ErrDeadline}
}

// recoverStep turns a panic in a step into its error, naming the stage
// that was running. The state is safe to step on: stages write only their
// outputs and scratch tensors, the tokens are marked stale while they are
// written (loadInputs), and commit, which cannot panic, runs last.
func (e *Engine) recoverStep(err *error) {
	if p := recover(); p != nil {
		*err = PanicError(e.at.String(), p)
	}
}

// loadInputs preprocesses the images and, when the instruction changed,
// re-tokenises it and starts a new episode.
func (e *Engine) loadInputs(obs *Observation) error {
	if obs == nil {
		return &StepError{"input", fmt.Errorf("no observation")}
	}
	for i, p := range e.t.cams {
		im := obs.Static
		if e.t.camSlots[i] == SlotGripper {
			im = obs.Gripper
		}
		if im == nil {
			return &StepError{"input", fmt.Errorf("the model needs a %s camera image", e.t.camSlots[i])}
		}
		if err := p.load(im); err != nil {
			return &StepError{"input", fmt.Errorf("%s camera: %w", e.t.camSlots[i], err)}
		}
	}
	if obs.Instruction != e.ep.instruction || e.ep.instruction == "" {
		// From here the token tensors no longer hold the old instruction,
		// also if Encode fails or panics half-way.
		e.ep.instruction = ""
		if err := e.tok.Encode(obs.Instruction, e.t.tokens, e.t.mask); err != nil {
			return &StepError{"input", err}
		}
		e.resetLocked()
		e.ep.instruction = obs.Instruction
	}
	return nil
}

// runExits is the DeeR exit rule over exits 1..n.
// The thresholds in force are r.Thresholds (the budget window's, when on).
// Past the deadline, it ends at the deepest exit evaluated.
func (e *Engine) runExits(n int, pl *Plan, obs *Observation, r *StepResult) (int, error) {
	e.at = partReference
	if err := e.evalHead(e.t.reference, &e.cand[0], r); err != nil {
		return 0, &StepError{"head", err}
	}
	for i := 1; i <= n; i++ {
		e.at = part(i)
		if e.pastDeadline(obs) {
			if i == 1 {
				return 0, e.cutBeforeExits(r)
			}
			r.DeadlineCut = true
			return i - 1, nil
		}
		if err := e.runBlock(i, r); err != nil {
			return 0, err
		}
		if err := e.evalHead(e.t.features[i-1], &e.cand[i], r); err != nil {
			return 0, &StepError{e.at.String(), err}
		}
		d := pl.Metric.Distance(&e.cand[i].pose, &e.cand[i-1].pose, e.cand[i].gripper, e.cand[i-1].gripper)
		r.Distances[i-1] = d
		r.NumDistances = i
		if d <= r.Thresholds[i-1] || i == n {
			return i, nil
		}
	}
	panic("unreachable: the last allowed exit always stops")
}

// runHeld runs blocks up to a held exit and the head once. Past the
// deadline, it evaluates the deepest block run instead.
func (e *Engine) runHeld(exit int, obs *Observation, r *StepResult) (int, error) {
	r.Held = true
	for i := 1; i <= exit; i++ {
		e.at = part(i)
		if e.pastDeadline(obs) {
			if i == 1 {
				return 0, e.cutBeforeExits(r)
			}
			r.DeadlineCut = true
			exit = i - 1
			break
		}
		if err := e.runBlock(i, r); err != nil {
			return 0, err
		}
	}
	e.at = part(exit)
	if err := e.evalHead(e.t.features[exit-1], &e.cand[exit], r); err != nil {
		return 0, &StepError{e.at.String(), err}
	}
	return exit, nil
}

func (e *Engine) runBlock(exit int, r *StepResult) error {
	t0 := e.clock()
	if err := e.be.Run(blockStage(exit)); err != nil {
		return &StepError{e.at.String(), err}
	}
	r.BlockTime[exit-1] = e.clock().Sub(t0)
	return nil
}

// evalHead runs the head on feature with the committed state, leaving the
// new state in the head's output tensors, and checks every output.
func (e *Engine) evalHead(feature []float32, c *candidate, r *StepResult) error {
	t0 := e.clock()
	copy(e.t.headFeature, feature)
	if err := e.be.Run(e.headStage()); err != nil {
		return fmt.Errorf("head: %w", err)
	}
	r.HeadTime += e.clock().Sub(t0)
	copy(c.pose[:], e.t.pose)
	c.gripper = e.t.gripper[0]
	if !finite(e.t.pose) || !finite(e.t.gripper) {
		return fmt.Errorf("head: action output is not finite: pose %v, gripper %v", e.t.pose, e.t.gripper[0])
	}
	for i, s := range e.t.stateOut {
		if !finite(s) {
			return fmt.Errorf("head: recurrent state output %q is not finite", e.m.Head.StateOutputs[i])
		}
	}
	return nil
}

// setAction turns the chosen candidate (averaged with the previous exit's
// when asked) into the published action, and checks it: a pose_scale can
// overflow a finite output, and a head whose gripper output is not a
// probability breaks the model contract.
func (e *Engine) setAction(exit int, pl *Plan, r *StepResult) error {
	c := e.cand[exit]
	if pl.AverageLastTwo && !r.Held {
		p := e.cand[exit-1]
		for i := range c.pose {
			c.pose[i] = (c.pose[i] + p.pose[i]) / 2
		}
		c.gripper = (c.gripper + p.gripper) / 2
	}
	a := &e.m.Action
	for i := range c.pose {
		r.Action.Pose[i] = c.pose[i]
		if a.PoseScale != nil {
			r.Action.Pose[i] *= a.PoseScale[i]
		}
	}
	threshold := a.GripperThreshold
	if threshold == 0 {
		threshold = 0.5
	}
	r.Action.GripperProb = c.gripper
	r.Action.Gripper = -1
	if c.gripper > threshold {
		r.Action.Gripper = 1
	}
	if !finite(r.Action.Pose[:]) {
		return fmt.Errorf("pose %v is not finite after pose_scale", r.Action.Pose)
	}
	if !(c.gripper >= 0 && c.gripper <= 1) {
		return fmt.Errorf("gripper probability %v is outside [0, 1]", c.gripper)
	}
	return nil
}

func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
