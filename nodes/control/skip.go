package control

// Skip says why a tick produced no action.
type Skip int

// Reasons a tick did not produce an action. The zero value means it did.
// The reasons a frame can end without an action (NoInstruction,
// Incomplete, NoClock, Stale, Failed, OverDeadline, Superseded) are counted over the
// diagnostics window; NoImage and NotNew only say that there was nothing
// to step.
const (
	Stepped       Skip = iota
	NoImage            // no static image received yet
	NotNew             // no new static image since the last step
	NoInstruction      // no instruction received yet
	Incomplete         // the model needs a gripper image at least as new as the static one
	NoClock            // use_sim_time and no /clock message yet
	Stale              // the static image is older than input.max_age_ms
	Failed             // the step failed (a policy.StepError): nothing published
	OverDeadline       // control.deadline_ms passed before the first exit
	// Superseded: a newer static image replaced this one before it could
	// step: it arrived while a step ran (images faster than steps: the
	// newest wins), or at a fixed control rate between two ticks. Counted
	// by the tick after the image that replaced it.
	Superseded
)

// NumSkips is the number of Skip values, Stepped included.
const NumSkips = int(Superseded) + 1

var skipNames = [NumSkips]string{"stepped", "no static image yet", "no new static image", "no instruction yet",
	"no gripper image for this frame", "waiting for /clock", "stale image", "step failed", "over deadline",
	"replaced by a newer image before it could step"}

func (s Skip) String() string {
	if s < 0 || int(s) >= NumSkips {
		return "unknown skip reason"
	}
	return skipNames[s]
}

// Hint is what an operator can check for the reason, for logs.
func (s Skip) Hint() string {
	switch s {
	case NoInstruction:
		return "publish a std_msgs/String on instruction"
	case Incomplete:
		return "the model has a gripper camera: is gripper_image publishing, with stamps at least as new as static_image's?"
	case NoClock:
		return "use_sim_time is set: is /clock published (ros2 bag play --clock)?"
	case Stale:
		return "the image stamp is older than input.max_age_ms on ROS time: check the camera's clock, or use_sim_time with ros2 bag play --clock"
	case OverDeadline:
		return "control.deadline_ms passed before the first exit: raise it, or lower the load"
	case Superseded:
		return "images come faster than steps (or than control.rate_hz): the newest one steps"
	}
	return ""
}

// counted reports whether a frame that ended with reason s is counted in
// the diagnostics window.
func (s Skip) counted() bool { return s != NoImage && s != NotNew }
