package policy

import (
	"fmt"
	"math"
	"time"
)

// Observation is one control step's input.
type Observation struct {
	Static      *Image // required
	Gripper     *Image // required when the model has a gripper camera
	Instruction string // required; a new instruction resets the episode
}

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
	Exit   int     // exit taken, 1-based
	Held   bool    // exit reused from an earlier decision (no distances)
	Reset  bool    // this step started a new episode
	GFLOPs float64 // decoder GFLOPs spent: the exit's cumulative cost
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

// StepError is a step that failed; the engine's committed state is as it
// was before the step.
type StepError struct {
	Stage string // "input", "encoder", "exit 3", "head", ...
	Err   error
}

func (e *StepError) Error() string { return fmt.Sprintf("policy: step: %s: %v", e.Stage, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Step runs one control step: the encoder, then exits in order until one is
// stable by the DeeR rule, then commits that exit's recurrent state. See
// doc.go for the rule.
func (e *Engine) Step(obs *Observation) (StepResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var r StepResult
	if e.closed {
		return r, ErrClosed
	}
	start := e.clock()
	pl := e.plan.Load()
	e.tracker.track(pl)
	n := min(pl.MaxExit, e.sess.loaded)
	r.MaxExit = n
	copy(r.Thresholds[:n], e.tracker.th)
	r.Thresholds[n-1] = math.Inf(1)
	r.SolvedGFLOPs = e.tracker.solved

	if err := e.loadInputs(obs, &r); err != nil {
		return r, err
	}
	t0 := e.clock()
	if err := e.be.Run(encoderStage); err != nil {
		return r, &StepError{"encoder", err}
	}
	r.EncoderTime = e.clock().Sub(t0)

	var exit int
	var err error
	if e.ep.holdLeft > 0 {
		exit, err = e.runHeld(min(e.ep.holdExit, n), &r)
	} else {
		exit, err = e.runExits(n, pl, &r)
	}
	if err != nil {
		return r, err
	}
	// Commit: the head's last evaluation was the chosen exit's.
	for i, s := range e.t.stateIn {
		copy(s, e.t.stateOut[i])
	}
	switch {
	case r.Held:
		e.ep.holdLeft--
	case pl.HoldSteps > 0:
		e.ep.holdExit, e.ep.holdLeft = exit, pl.HoldSteps
	}
	e.setAction(exit, pl, &r)
	r.Exit = exit
	r.GFLOPs = e.m.Exits[exit-1].GFLOPs
	e.tracker.record(r.GFLOPs, e.planner.cost)
	r.Total = e.clock().Sub(start)
	return r, nil
}

// loadInputs preprocesses the images and, when the instruction changed,
// re-tokenises it and starts a new episode.
func (e *Engine) loadInputs(obs *Observation, r *StepResult) error {
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
		if err := e.tok.Encode(obs.Instruction, e.t.tokens, e.t.mask); err != nil {
			e.ep.instruction = "" // the token tensors no longer hold it
			return &StepError{"input", err}
		}
		e.resetLocked()
		e.ep.instruction = obs.Instruction
		r.Reset = true
	}
	return nil
}

// runExits is the DeeR exit rule over exits 1..n.
// The thresholds in force are r.Thresholds (the budget window's, when on).
func (e *Engine) runExits(n int, pl *Plan, r *StepResult) (int, error) {
	if err := e.evalHead(e.t.reference, &e.cand[0], r); err != nil {
		return 0, err
	}
	for i := 1; i <= n; i++ {
		if err := e.runBlock(i, r); err != nil {
			return 0, err
		}
		if err := e.evalHead(e.t.features[i-1], &e.cand[i], r); err != nil {
			return 0, &StepError{fmt.Sprintf("exit %d", i), err}
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

// runHeld runs blocks up to a held exit and the head once.
func (e *Engine) runHeld(exit int, r *StepResult) (int, error) {
	r.Held = true
	for i := 1; i <= exit; i++ {
		if err := e.runBlock(i, r); err != nil {
			return 0, err
		}
	}
	if err := e.evalHead(e.t.features[exit-1], &e.cand[exit], r); err != nil {
		return 0, &StepError{fmt.Sprintf("exit %d", exit), err}
	}
	return exit, nil
}

func (e *Engine) runBlock(exit int, r *StepResult) error {
	t0 := e.clock()
	if err := e.be.Run(blockStage(exit)); err != nil {
		return &StepError{fmt.Sprintf("exit %d", exit), err}
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
		return &StepError{"head", err}
	}
	r.HeadTime += e.clock().Sub(t0)
	copy(c.pose[:], e.t.pose)
	c.gripper = e.t.gripper[0]
	if !finite(e.t.pose) || !finite(e.t.gripper) {
		return &StepError{"head", fmt.Errorf("action output is not finite: pose %v, gripper %v", e.t.pose, e.t.gripper[0])}
	}
	for i, s := range e.t.stateOut {
		if !finite(s) {
			return &StepError{"head", fmt.Errorf("recurrent state output %q is not finite", e.m.Head.StateOutputs[i])}
		}
	}
	return nil
}

// setAction turns the chosen candidate (averaged with the previous exit's
// when asked) into the published action.
func (e *Engine) setAction(exit int, pl *Plan, r *StepResult) {
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
}

func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
