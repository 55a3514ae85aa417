package sim

import "math"

// Expert waypoints and tolerances, in metres and radians.
const (
	approachZ   = 0.26 // fingertip height for free-space moves over blocks
	carryZ      = 0.35 // fingertip height for carrying and lifting
	nearDist    = 0.1  // horizontal distance where slow, precise moves start
	graspZ      = BlockHalf - 0.02
	alignTol    = 0.015
	alignYawTol = 0.08
	keepTol     = 0.03 // looser tolerance once descending
	keepYawTol  = 0.15
	releaseGap  = 0.05 // held block's bottom height at which to let go
	pushLowZ    = 0.04
	pushBack    = BlockHalf + PusherRadius + 0.05
	pushExtra   = 0.05
	fastNorm    = 1.0 // largest action component in free space
	slowNorm    = 0.4 // largest action component near contact
)

// Expert returns the scripted expert's action for the current state.
func (e *Env) Expert() Action {
	a, _ := e.ExpertStep()
	return a
}

// ExpertStep returns the scripted expert's action for the current state
// and the phase it is in. The expert reads the true state and keeps no
// memory between calls, so it recovers from any state; with
// Config.ExpertNoise > 0 each call also draws noise from the episode's
// expert stream.
func (e *Env) ExpertStep() (Action, Phase) {
	x := expert{s: &e.st, pos: e.cfg.PosStepM, rot: e.cfg.RotStepRad}
	var a Action
	var p Phase
	switch e.st.Task {
	case TaskReach:
		a, p = x.reach()
	case TaskPush:
		a, p = x.push()
	case TaskPick:
		a, p = x.pick()
	case TaskPlace:
		a, p = x.place()
	}
	if sd := e.cfg.ExpertNoise; sd > 0 {
		for _, k := range [4]int{AxisX, AxisY, AxisZ, AxisYaw} {
			a.Pose[k] += float32(sd * e.expRng.NormFloat64())
		}
	}
	return a.Clipped(), p
}

// expert computes actions from a state.
type expert struct {
	s        *State
	pos, rot float64
}

// moveTo returns an action heading straight for the target position, its
// largest component at most norm: saturated far away, proportional near.
func (x expert) moveTo(tx, ty, tz, norm float64) Action {
	e := x.s.Effector.Pos
	d := [3]float64{(tx - e[0]) / x.pos, (ty - e[1]) / x.pos, (tz - e[2]) / x.pos}
	m := math.Max(math.Abs(d[0]), math.Max(math.Abs(d[1]), math.Abs(d[2])))
	k := 1.0
	if m > norm {
		k = norm / m
	}
	return Action{Pose: [6]float32{float32(d[0] * k), float32(d[1] * k), float32(d[2] * k)}}
}

// turn sets a's yaw action towards the yaw error err, at most norm.
func (x expert) turn(a Action, err, norm float64) Action {
	a.Pose[AxisYaw] = float32(clamp(err/x.rot, -norm, norm))
	return a
}

// grip sets a's gripper command.
func grip(a Action, closed bool) Action {
	a.Gripper = 1
	if closed {
		a.Gripper = -1
	}
	return a
}

// reach moves above the target block.
func (x expert) reach() (Action, Phase) {
	b := x.s.TargetBlock()
	e := x.s.Effector.Pos
	tz := reachTarget(b)[2]
	if math.Hypot(b.Pos[0]-e[0], b.Pos[1]-e[1]) > nearDist || math.Abs(tz-e[2]) > nearDist {
		return grip(x.moveTo(b.Pos[0], b.Pos[1], tz, fastNorm), false), PhaseApproach
	}
	return grip(x.moveTo(b.Pos[0], b.Pos[1], tz, slowNorm), false), PhaseAlign
}

// pick grasps the target block and lifts it.
func (x expert) pick() (Action, Phase) {
	s := x.s
	e := s.Effector.Pos
	if s.Held == s.Target {
		return grip(x.moveTo(e[0], e[1], carryZ, slowNorm+0.2), true), PhaseLift
	}
	return x.grasp()
}

// grasp brings the open gripper around the target block and closes it.
func (x expert) grasp() (Action, Phase) {
	s := x.s
	ef := s.Effector
	e := ef.Pos
	if ef.Closed {
		// A missed grasp or a held wrong block: open and back off.
		return grip(x.moveTo(e[0], e[1], e[2]+0.05, slowNorm), false), PhaseRelease
	}
	b := s.TargetBlock()
	dxy := math.Hypot(b.Pos[0]-e[0], b.Pos[1]-e[1])
	yawErr := quarterWrap(b.Yaw - ef.Yaw)
	if dxy > nearDist || e[2] > approachZ+nearDist {
		return grip(x.moveTo(b.Pos[0], b.Pos[1], approachZ, fastNorm), false), PhaseApproach
	}
	aligned := dxy <= alignTol && math.Abs(yawErr) <= alignYawTol
	kept := e[2] < approachZ-0.02 && dxy <= keepTol && math.Abs(yawErr) <= keepYawTol
	switch {
	case !aligned && !kept:
		return grip(x.turn(x.moveTo(b.Pos[0], b.Pos[1], math.Min(e[2], approachZ), slowNorm), yawErr, slowNorm), false), PhaseAlign
	case e[2] > b.Pos[2]+0.01:
		return grip(x.turn(x.moveTo(b.Pos[0], b.Pos[1], graspZ, slowNorm+0.1), yawErr, slowNorm), false), PhaseDescend
	}
	return grip(x.turn(x.moveTo(b.Pos[0], b.Pos[1], e[2], slowNorm), yawErr, slowNorm), true), PhaseGrasp
}

// place grasps the target block, carries it over the bin and lets go.
func (x expert) place() (Action, Phase) {
	s := x.s
	e := s.Effector.Pos
	b := s.TargetBlock()
	bin := BinOf(s.Bin)
	if s.Held != s.Target {
		if !bin.Contains(b.Pos[0], b.Pos[1]) {
			return x.grasp()
		}
		return grip(x.moveTo(e[0], e[1], carryZ, fastNorm), false), PhaseRetreat
	}
	// Aim the block's centre, not the effector, at the bin's centre.
	tx, ty := e[0]+bin.Centre[0]-b.Pos[0], e[1]+bin.Centre[1]-b.Pos[1]
	dxy := math.Hypot(tx-e[0], ty-e[1])
	switch {
	case dxy > nearDist && e[2] < carryZ-0.12:
		return grip(x.moveTo(e[0], e[1], carryZ, slowNorm+0.2), true), PhaseLift
	case dxy > nearDist:
		return grip(x.moveTo(tx, ty, carryZ, fastNorm), true), PhaseCarry
	case dxy > keepTol:
		return grip(x.moveTo(tx, ty, e[2], slowNorm), true), PhasePlace
	case b.Pos[2]-BlockHalf > releaseGap:
		return grip(x.moveTo(tx, ty, e[2]-(b.Pos[2]-BlockHalf), slowNorm+0.1), true), PhasePlace
	}
	return grip(x.moveTo(tx, ty, e[2], slowNorm), false), PhaseRelease
}

// push closes the gripper behind the target block, lowers it to the table
// and pushes the block to the right.
func (x expert) push() (Action, Phase) {
	s := x.s
	ef := s.Effector
	e := ef.Pos
	b := s.TargetBlock()
	goal := s.StartX + PushDistance + pushExtra - (BlockHalf + PusherRadius)
	behind := e[0] < b.Pos[0]-BlockHalf && math.Abs(e[1]-b.Pos[1]) < keepTol+0.02
	if ef.Closed && e[2] <= pushLowZ+0.02 && behind {
		return grip(x.moveTo(goal, b.Pos[1], pushLowZ, slowNorm+0.1), true), PhasePush
	}
	px, py := b.Pos[0]-pushBack, b.Pos[1]
	dxy := math.Hypot(px-e[0], py-e[1])
	switch {
	case dxy > nearDist || e[2] > approachZ+nearDist:
		// Far from the start point: travel high, gripper open.
		return grip(x.moveTo(px, py, approachZ, fastNorm), false), PhaseApproach
	case dxy > alignTol && e[2] > pushLowZ+0.02 || !ef.Closed:
		return grip(x.moveTo(px, py, math.Min(e[2], approachZ), slowNorm), true), PhaseAlign
	}
	return grip(x.moveTo(px, py, pushLowZ, slowNorm+0.1), true), PhaseDescend
}
