package msgs

import "github.com/deervla/deer_vla/msgs/cdr"

// Action is deer_vla_msgs/msg/Action: one 7-DoF action from the early-exit
// policy, or an expert demonstration. The fields follow
// deer_vla_msgs/msg/Action.msg, which documents them.
type Action struct {
	Header             Header     // stamp and frame_id of the source camera image
	PoseDelta          [6]float32 // relative x, y, z, roll, pitch, yaw, times the model's pose_scale
	Gripper            float32    // +1 open, -1 close
	GripperProbability float32    // sigmoid output of the head; expert: 1 open, 0 close
	ExitIndex          uint8      // exit taken, 1-based; 0 for expert actions
	GFLOPs             float32    // decoder GFLOPs spent on this action
	LatencyMs          float32    // wall time of the policy step, milliseconds
}

// TypeName returns [ActionType].
func (*Action) TypeName() string { return ActionType }

// MarshalCDR appends m's CDR encoding to buf.
func (m *Action) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	m.Header.encode(&e)
	e.Float32Array(m.PoseDelta[:])
	e.Float32(m.Gripper)
	e.Float32(m.GripperProbability)
	e.Uint8(m.ExitIndex)
	e.Float32(m.GFLOPs)
	e.Float32(m.LatencyMs)
	return e.Finish()
}

// UnmarshalCDR decodes data into m.
func (m *Action) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	m.Header.decode(&d)
	d.Float32Array(m.PoseDelta[:])
	m.Gripper = d.Float32()
	m.GripperProbability = d.Float32()
	m.ExitIndex = d.Uint8()
	m.GFLOPs = d.Float32()
	m.LatencyMs = d.Float32()
	if err := d.Err(); err != nil {
		return decodeError(ActionType, err)
	}
	return nil
}
