package sim

import (
	"errors"
	"fmt"
)

// Default values used for zero Config fields.
const (
	// DefaultPosStep is the largest effector translation per step, in metres.
	DefaultPosStep = 0.05
	// DefaultRotStep is the largest effector rotation per step, in radians.
	DefaultRotStep = 0.1
)

// ErrBadConfig is wrapped by every error that [Config.Validate] returns.
var ErrBadConfig = errors.New("sim: bad config")

// Config sets up an [Env]. The zero value is a valid configuration.
type Config struct {
	// NumBlocks (optional) is the number of blocks on the table, 3 or 4.
	// It defaults to 0, which draws 3 or 4 per episode from the seed.
	NumBlocks int

	// PosStepM (optional) is the effector translation, in metres, that a
	// pose action of 1 gives in one step. It defaults to [DefaultPosStep].
	PosStepM float64

	// RotStepRad (optional) is the effector rotation, in radians, that a
	// pose action of 1 gives in one step. It defaults to [DefaultRotStep].
	RotStepRad float64

	// ExpertNoise (optional) is the standard deviation of the Gaussian
	// noise, in normalised action units, that [Env.Expert] adds to its pose
	// actions; the noise is seeded by the episode seed. It defaults to 0,
	// no noise. Values up to about 0.2 keep the expert successful.
	ExpertNoise float64

	// MaxSteps (optional) overrides the episode length of every task
	// family. It defaults to 0, which uses [TaskKind.MaxSteps].
	MaxSteps int

	// SkipRender (optional) turns off both cameras, for fast evaluation of
	// policies that read the state; the observation images stay black.
	// It defaults to false: every step is rendered.
	SkipRender bool
}

// Validate returns an error naming the first field that is out of range.
func (c Config) Validate() error {
	switch {
	case c.NumBlocks != 0 && (c.NumBlocks < 3 || c.NumBlocks > MaxBlocks):
		return fmt.Errorf("%w: 'NumBlocks' is %d, want 0, 3 or %d", ErrBadConfig, c.NumBlocks, MaxBlocks)
	case c.PosStepM < 0 || c.PosStepM > 0.2:
		return fmt.Errorf("%w: 'PosStepM' is %g, want 0 to 0.2", ErrBadConfig, c.PosStepM)
	case c.RotStepRad < 0 || c.RotStepRad > 0.5:
		return fmt.Errorf("%w: 'RotStepRad' is %g, want 0 to 0.5", ErrBadConfig, c.RotStepRad)
	case c.ExpertNoise < 0 || c.ExpertNoise > 1:
		return fmt.Errorf("%w: 'ExpertNoise' is %g, want 0 to 1", ErrBadConfig, c.ExpertNoise)
	case c.MaxSteps < 0:
		return fmt.Errorf("%w: 'MaxSteps' is %d, want >= 0", ErrBadConfig, c.MaxSteps)
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.PosStepM == 0 {
		c.PosStepM = DefaultPosStep
	}
	if c.RotStepRad == 0 {
		c.RotStepRad = DefaultRotStep
	}
	return c
}
