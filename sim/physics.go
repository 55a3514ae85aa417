package sim

import "math"

// Physics constants, in metres and radians.
const (
	// GraspRadius is the largest horizontal distance between the effector
	// and a block's centre at which closing the gripper grasps the block.
	GraspRadius = 0.04
	// GraspAbove is how far above a block's centre the fingertips may be
	// for a grasp (they must also be above its bottom).
	GraspAbove = 0.03
	// GraspYawTol is the largest yaw misalignment, modulo a quarter turn,
	// between the effector and a block for a grasp.
	GraspYawTol = 0.2
	// FallStep is how far a released block falls per step.
	FallStep = 0.1
	// PusherRadius is the radius of the closed, empty gripper when it
	// pushes blocks; an open gripper passes around blocks.
	PusherRadius = 0.03
)

// apply advances s by one step of the clipped action a: move the effector,
// then open or close the gripper, carry the held block, let released
// blocks fall and let the closed gripper push blocks.
func (s *State) apply(a Action, posStep, rotStep float64) {
	dx, dy, dz, dyaw := a.Delta(posStep, rotStep)
	e := &s.Effector
	minZ := 0.0
	if s.Held >= 0 {
		minZ = BlockHalf - s.HoldOffset[2]
	}
	e.Pos[0] = clamp(e.Pos[0]+dx, -TableHalf, TableHalf)
	e.Pos[1] = clamp(e.Pos[1]+dy, -TableHalf, TableHalf)
	e.Pos[2] = clamp(e.Pos[2]+dz, minZ, EffectorMaxZ)
	e.Yaw = clamp(e.Yaw+dyaw, -math.Pi, math.Pi)

	switch {
	case a.Gripper < 0 && !e.Closed:
		e.Closed = true
		s.grasp()
	case a.Gripper > 0 && e.Closed:
		e.Closed = false
		s.Held = -1
	}
	if s.Held >= 0 {
		s.carry()
	}
	s.fall()
	if e.Closed && s.Held < 0 {
		s.push()
	}
}

// grasp takes hold of the nearest block within reach of the closing
// gripper, if any.
func (s *State) grasp() {
	e := &s.Effector
	best, bestD := -1, GraspRadius
	for i := range s.NumBlocks {
		b := &s.Blocks[i]
		d := math.Hypot(b.Pos[0]-e.Pos[0], b.Pos[1]-e.Pos[1])
		if d > bestD || e.Pos[2] > b.Pos[2]+GraspAbove || e.Pos[2] < b.Pos[2]-BlockHalf {
			continue
		}
		if math.Abs(quarterWrap(b.Yaw-e.Yaw)) > GraspYawTol {
			continue
		}
		best, bestD = i, d
	}
	if best < 0 {
		return
	}
	b := &s.Blocks[best]
	s.Held = best
	sin, cos := math.Sincos(-e.Yaw)
	rx, ry := b.Pos[0]-e.Pos[0], b.Pos[1]-e.Pos[1]
	s.HoldOffset = [3]float64{cos*rx - sin*ry, sin*rx + cos*ry, b.Pos[2] - e.Pos[2]}
	s.HoldYaw = b.Yaw - e.Yaw
}

// carry moves the held block rigidly with the effector.
func (s *State) carry() {
	e := &s.Effector
	b := &s.Blocks[s.Held]
	sin, cos := math.Sincos(e.Yaw)
	o := s.HoldOffset
	b.Pos = [3]float64{e.Pos[0] + cos*o[0] - sin*o[1], e.Pos[1] + sin*o[0] + cos*o[1], e.Pos[2] + o[2]}
	b.Yaw = e.Yaw + s.HoldYaw
}

// fall lowers every block that is neither held nor resting. Blocks do not
// stack: a released block always lands on the table.
func (s *State) fall() {
	for i := range s.NumBlocks {
		if i == s.Held {
			continue
		}
		b := &s.Blocks[i]
		b.Pos[2] = math.Max(BlockHalf, b.Pos[2]-FallStep)
	}
}

// push moves every block that overlaps the closed, empty gripper out of
// its way, along the line from the effector to the block's centre. Blocks
// are treated as discs for pushing and do not push each other.
func (s *State) push() {
	e := &s.Effector
	c := BlockHalf + PusherRadius
	for i := range s.NumBlocks {
		b := &s.Blocks[i]
		if e.Pos[2] >= b.Pos[2]+BlockHalf {
			continue
		}
		rx, ry := b.Pos[0]-e.Pos[0], b.Pos[1]-e.Pos[1]
		d := math.Hypot(rx, ry)
		if d >= c {
			continue
		}
		ux, uy := 1.0, 0.0
		if d > 1e-9 {
			ux, uy = rx/d, ry/d
		}
		b.Pos[0] = clamp(e.Pos[0]+ux*c, -TableHalf, TableHalf)
		b.Pos[1] = clamp(e.Pos[1]+uy*c, -TableHalf, TableHalf)
	}
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

// quarterWrap wraps an angle to [-pi/4, pi/4], the yaw error that matters
// for a cube.
func quarterWrap(a float64) float64 {
	q := math.Pi / 2
	return a - q*math.Round(a/q)
}
