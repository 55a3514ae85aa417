package sim

import "math"

// World geometry, in metres and radians. The table spans x, y in
// [-TableHalf, TableHalf] at z = 0; x points right in the static camera,
// y away from it, z up.
const (
	TableHalf = 1.0
	// BlockHalf is half the side of a (cubic) block.
	BlockHalf = 0.07
	// MaxBlocks is the largest number of blocks in a world.
	MaxBlocks = 4
	// EffectorMaxZ is the highest the effector's fingertips can go.
	EffectorMaxZ = 0.8
)

// Colour names a block colour.
type Colour int

// Block colours.
const (
	Red Colour = 1 + iota
	Green
	Blue
	Yellow
)

var colourNames = [...]string{"", "red", "green", "blue", "yellow"}

// String returns the colour's name as used in instructions.
func (c Colour) String() string {
	if c < Red || c > Yellow {
		return "Colour(?)"
	}
	return colourNames[c]
}

// Block is a cube of side 2*BlockHalf. Pos is its centre; Yaw its rotation
// about z (blocks are symmetric under quarter turns).
type Block struct {
	Colour Colour
	Pos    [3]float64
	Yaw    float64
}

// Resting reports whether b lies on the table.
func (b Block) Resting() bool { return b.Pos[2] <= BlockHalf+1e-9 }

// Effector is the gripper. Pos is the point between the fingertips; Yaw its
// rotation about z. Roll and pitch are always zero.
type Effector struct {
	Pos    [3]float64
	Yaw    float64
	Closed bool
}

// Side names a bin.
type Side int

// Bin sides.
const (
	Left Side = 1 + iota
	Right
)

// String returns "left" or "right".
func (s Side) String() string {
	switch s {
	case Left:
		return "left"
	case Right:
		return "right"
	}
	return "Side(?)"
}

// Bin is a flat rectangular target area on the table.
type Bin struct {
	Side   Side
	Centre [2]float64
	Half   [2]float64
}

// Contains reports whether the point (x, y) lies inside b.
func (b Bin) Contains(x, y float64) bool {
	return math.Abs(x-b.Centre[0]) <= b.Half[0] && math.Abs(y-b.Centre[1]) <= b.Half[1]
}

// distance is how far the point (x, y) lies outside b (0 inside).
func (b Bin) distance(x, y float64) float64 {
	dx := max(math.Abs(x-b.Centre[0])-b.Half[0], 0)
	dy := max(math.Abs(y-b.Centre[1])-b.Half[1], 0)
	return math.Hypot(dx, dy)
}

// Bins are the two target areas, indexed by Side-1.
var Bins = [2]Bin{
	{Side: Left, Centre: [2]float64{-0.75, 0}, Half: [2]float64{0.2, 0.3}},
	{Side: Right, Centre: [2]float64{0.75, 0}, Half: [2]float64{0.2, 0.3}},
}

// BinOf returns the bin on side s.
func BinOf(s Side) Bin { return Bins[s-1] }

// State is the full true state of an episode. It is a plain value: copying
// it copies everything.
type State struct {
	Task TaskKind
	// Target indexes Blocks: the block the task is about.
	Target int
	// Bin is the target side of a place task, else 0.
	Bin Side
	// StartX is the target block's x at reset (push tasks measure from it).
	StartX float64
	// Step counts the steps taken in this episode.
	Step      int
	MaxSteps  int
	Effector  Effector
	NumBlocks int
	Blocks    [MaxBlocks]Block
	// Held indexes the block in the gripper, or is -1.
	Held int
	// HoldOffset is the held block's centre in the effector frame, and
	// HoldYaw its yaw relative to the effector.
	HoldOffset [3]float64
	HoldYaw    float64
	Done       bool
	Success    bool
}

// TargetBlock returns the block the task is about.
func (s *State) TargetBlock() Block { return s.Blocks[s.Target] }
