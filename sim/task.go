package sim

import "fmt"

// TaskKind is a task family. The zero value means unset.
type TaskKind int

// RandomTask asks Reset to draw a family from the seed.
const RandomTask TaskKind = -1

// Task families, from easiest to hardest.
const (
	// TaskReach: move the effector to just above a block.
	TaskReach TaskKind = 1 + iota
	// TaskPush: push a block to the right with the closed gripper.
	TaskPush
	// TaskPick: grasp a block and lift it.
	TaskPick
	// TaskPlace: grasp a block, carry it and release it in a bin.
	TaskPlace
)

// NumTasks is the number of task families; valid kinds are 1..NumTasks.
const NumTasks = 4

// AllTasks lists every task family in order.
var AllTasks = [NumTasks]TaskKind{TaskReach, TaskPush, TaskPick, TaskPlace}

var taskNames = [...]string{"", "reach", "push", "pick", "place"}

// String returns the family's short name.
func (k TaskKind) String() string {
	if k < TaskReach || k > TaskPlace {
		return fmt.Sprintf("TaskKind(%d)", int(k))
	}
	return taskNames[k]
}

// Valid reports whether k is one of the families.
func (k TaskKind) Valid() bool { return k >= TaskReach && k <= TaskPlace }

// MaxSteps returns the episode length of the family.
func (k TaskKind) MaxSteps() int {
	switch k {
	case TaskReach:
		return 60
	case TaskPush:
		return 100
	case TaskPick:
		return 80
	case TaskPlace:
		return 120
	}
	return 0
}

// templates holds the instruction templates of each family; %s is the
// colour, and for place tasks the second %s is the bin side.
var templates = [...][]string{
	TaskReach: {"move to the %s block", "go to the %s block"},
	TaskPush:  {"push the %s block to the right", "slide the %s block right"},
	TaskPick:  {"pick up the %s block", "lift the %s block"},
	TaskPlace: {"put the %s block in the %s bin", "place the %s block in the %s bin"},
}

// instruction builds the language instruction of the state's task, using
// template number variant (modulo the number of templates).
func instruction(s *State, variant int) string {
	ts := templates[s.Task]
	t := ts[variant%len(ts)]
	c := s.TargetBlock().Colour
	if s.Task == TaskPlace {
		return fmt.Sprintf(t, c, s.Bin)
	}
	return fmt.Sprintf(t, c)
}
