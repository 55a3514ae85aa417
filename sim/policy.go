package sim

import "math/rand/v2"

// Policy chooses the next action. Scripted policies may read the true
// state through env; learnt ones should read only obs.
type Policy interface {
	Act(env *Env, obs Observation) Action
}

// ExpertPolicy is the scripted expert, [Env.Expert].
type ExpertPolicy struct{}

// Act returns env.Expert().
func (ExpertPolicy) Act(env *Env, _ Observation) Action { return env.Expert() }

// NoopPolicy does nothing: every action is zero.
type NoopPolicy struct{}

// Act returns the zero Action.
func (NoopPolicy) Act(*Env, Observation) Action { return Action{} }

// RandomPolicy draws every pose component uniformly from [-1, 1] and the
// gripper from {-1, +1}.
type RandomPolicy struct {
	rng *rand.Rand
}

// NewRandomPolicy returns a RandomPolicy seeded with seed.
func NewRandomPolicy(seed uint64) *RandomPolicy {
	return &RandomPolicy{rng: rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))}
}

// Act returns a random action.
func (p *RandomPolicy) Act(*Env, Observation) Action {
	var a Action
	for i := range a.Pose {
		a.Pose[i] = float32(2*p.rng.Float64() - 1)
	}
	a.Gripper = float32(2*p.rng.IntN(2) - 1)
	return a
}
