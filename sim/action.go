package sim

// Action is one 7-DoF relative command, like CALVIN's relative actions.
//
// Pose holds the deltas x, y, z, roll, pitch, yaw, each in [-1, 1]; values
// outside are clipped. A value of 1 moves the effector by Config.PosStepM
// metres or rotates it by Config.RotStepRad radians in one step. Roll and
// pitch are carried but the effector keeps them at zero.
//
// Gripper is +1 to open and -1 to close; a value of 0 keeps the current
// state (so the zero Action does nothing at all).
type Action struct {
	Pose    [6]float32
	Gripper float32
}

// Pose component indices.
const (
	AxisX = iota
	AxisY
	AxisZ
	AxisRoll
	AxisPitch
	AxisYaw
)

// Delta returns the clipped and scaled motion of a: translation in metres
// and yaw in radians.
func (a Action) Delta(posStep, rotStep float64) (dx, dy, dz, dyaw float64) {
	return clip1(float64(a.Pose[AxisX])) * posStep,
		clip1(float64(a.Pose[AxisY])) * posStep,
		clip1(float64(a.Pose[AxisZ])) * posStep,
		clip1(float64(a.Pose[AxisYaw])) * rotStep
}

// Clipped returns a with every component clipped to [-1, 1] and the
// gripper snapped to -1, 0 or +1.
func (a Action) Clipped() Action {
	for i := range a.Pose {
		a.Pose[i] = float32(clip1(float64(a.Pose[i])))
	}
	switch {
	case a.Gripper > 0:
		a.Gripper = 1
	case a.Gripper < 0:
		a.Gripper = -1
	}
	return a
}

// clip1 clips v to [-1, 1]; NaN becomes 0.
func clip1(v float64) float64 {
	switch {
	case v > 1:
		return 1
	case v < -1:
		return -1
	case v != v:
		return 0
	}
	return v
}
