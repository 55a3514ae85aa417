package replay

import (
	"math"

	"github.com/deervla/deer_vla/msgs"
)

// actionError compares the policy's actions with the demonstration's
// expert actions of the same stamp. Either may come first in the bag, so
// each side keeps its few most recent unmatched actions.
type actionError struct {
	expert, policy ring
	compared       int
	poseSqErr      float64 // sum over compared steps of mean((a-e)^2) over 6 pose values
	gripperAgree   int
}

type stampedAction struct {
	stamp   int64
	pose    [6]float32
	gripper float32
}

// ring holds the last few unmatched actions.
type ring struct {
	items [16]stampedAction
	next  int
	n     int
}

func (r *ring) push(a stampedAction) {
	r.items[r.next] = a
	r.next = (r.next + 1) % len(r.items)
	r.n = min(r.n+1, len(r.items))
}

// take removes and returns the action with the stamp, if present.
func (r *ring) take(stamp int64) (stampedAction, bool) {
	for i := 0; i < r.n; i++ {
		if r.items[i].stamp == stamp {
			a := r.items[i]
			r.items[i].stamp = math.MinInt64
			return a, true
		}
	}
	return stampedAction{}, false
}

func stamped(a *msgs.Action) stampedAction {
	return stampedAction{stamp: a.Header.Stamp.Nanos(), pose: a.PoseDelta, gripper: a.Gripper}
}

func (e *actionError) addExpert(a *msgs.Action) {
	s := stamped(a)
	if p, ok := e.policy.take(s.stamp); ok {
		e.compare(p, s)
		return
	}
	e.expert.push(s)
}

func (e *actionError) addPolicy(a *msgs.Action) {
	s := stamped(a)
	if x, ok := e.expert.take(s.stamp); ok {
		e.compare(s, x)
		return
	}
	e.policy.push(s)
}

func (e *actionError) compare(p, x stampedAction) {
	var sq float64
	for i := range p.pose {
		d := float64(p.pose[i] - x.pose[i])
		sq += d * d
	}
	e.poseSqErr += sq / 6
	if (p.gripper > 0) == (x.gripper > 0) {
		e.gripperAgree++
	}
	e.compared++
}

// poseRMS is the root of the mean squared pose error over compared steps.
func (e *actionError) poseRMS() float64 {
	if e.compared == 0 {
		return math.NaN()
	}
	return math.Sqrt(e.poseSqErr / float64(e.compared))
}
