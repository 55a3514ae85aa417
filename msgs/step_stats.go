package msgs

import "github.com/deervla/deer_vla/msgs/cdr"

// StepStats is deer_vla_msgs/msg/StepStats: the per-step record of the
// early-exit decision. The fields follow deer_vla_msgs/msg/StepStats.msg,
// which documents them.
type StepStats struct {
	Header          Header    // same stamp as the Action it describes
	ExitIndex       uint8     // exit taken, 1-based; 0: none (a deadline fallback)
	MaxExit         uint8     // deepest exit the peak-GFLOPs and memory budgets allow
	Held            bool      // exit reused from an earlier decision, no distances computed
	DeadlineCut     bool      // the deadline ended the step early (exit 0: before any exit)
	GFLOPs          float32   // decoder GFLOPs spent
	AvgGFLOPsBudget float32   // average-GFLOPs budget in force, 0 when unset
	WindowAvgGFLOPs float32   // realised average over the recent window
	Distances       []float32 // distance at each exit evaluated, exit 1 first
	Thresholds      []float32 // threshold of each allowed exit in force
	StageMs         []float32 // encoder, each block run, head total, milliseconds
}

// TypeName returns [StepStatsType].
func (*StepStats) TypeName() string { return StepStatsType }

// MarshalCDR appends m's CDR encoding to buf.
func (m *StepStats) MarshalCDR(buf []byte) []byte {
	e := cdr.NewEncoder(buf)
	m.Header.encode(&e)
	e.Uint8(m.ExitIndex)
	e.Uint8(m.MaxExit)
	e.Bool(m.Held)
	e.Bool(m.DeadlineCut)
	e.Float32(m.GFLOPs)
	e.Float32(m.AvgGFLOPsBudget)
	e.Float32(m.WindowAvgGFLOPs)
	e.Float32Seq(m.Distances)
	e.Float32Seq(m.Thresholds)
	e.Float32Seq(m.StageMs)
	return e.Finish()
}

// UnmarshalCDR decodes data into m, reusing the capacity of its slices.
func (m *StepStats) UnmarshalCDR(data []byte) error {
	d := cdr.NewDecoder(data)
	m.Header.decode(&d)
	m.ExitIndex = d.Uint8()
	m.MaxExit = d.Uint8()
	m.Held = d.Bool()
	m.DeadlineCut = d.Bool()
	m.GFLOPs = d.Float32()
	m.AvgGFLOPsBudget = d.Float32()
	m.WindowAvgGFLOPs = d.Float32()
	m.Distances = d.Float32Seq(m.Distances)
	m.Thresholds = d.Float32Seq(m.Thresholds)
	m.StageMs = d.Float32Seq(m.StageMs)
	if err := d.Err(); err != nil {
		return decodeError(StepStatsType, err)
	}
	return nil
}
