package control

// QueueDepth is how many images of one camera the loop holds that no step
// has used yet: the depth of the image subscriptions' sensor-data QoS, so
// the node holds no more than DDS would have delivered.
const QueueDepth = 5

// frameQueue holds one camera's images not yet used, oldest first, in a
// ring of frames whose buffers are kept and reused, so a steady stream of
// images allocates nothing. Guarded by Loop.mu.
type frameQueue struct {
	ring    [QueueDepth]*frame
	head, n int
}

func newFrameQueue() frameQueue {
	var q frameQueue
	for i := range q.ring {
		q.ring[i] = &frame{}
	}
	return q
}

// at returns the i-th oldest queued frame, i < n.
func (q *frameQueue) at(i int) *frame { return q.ring[(q.head+i)%QueueDepth] }

// push returns the frame to fill at the back; the caller made room first.
func (q *frameQueue) push() *frame {
	f := q.at(q.n)
	q.n++
	f.waited = Stepped
	return f
}

// take removes the oldest frame and returns it; spare's storage takes its
// place in the ring. The caller owns the frame until it gives it back as
// the spare of a later take, so it may read it without the lock.
func (q *frameQueue) take(spare *frame) *frame {
	f := q.ring[q.head]
	q.ring[q.head] = spare
	q.head = (q.head + 1) % QueueDepth
	q.n--
	return f
}

// dropOldest removes the oldest frame, keeping its storage, and returns
// it (valid until the next push).
func (q *frameQueue) dropOldest() *frame {
	f := q.ring[q.head]
	q.head = (q.head + 1) % QueueDepth
	q.n--
	return f
}

// The rules for static images, applied under Loop.mu as each one arrives
// (nextStatic) and at each tick (Tick):
//
//   - Every image steps, in order, while the loop keeps up: images that
//     arrive together (the first frames of a ros2 bag play), or while the
//     front one waits for /clock or for its gripper image, queue up to
//     QueueDepth and step one after another.
//   - An image that arrives while a step runs replaces every queued one:
//     the loop is behind, and the newest image is the one to act on, not
//     a backlog that would delay every later action.
//   - While the front image waits for an instruction, a new image replaces
//     it: frames from before a task starts are not stepped in a burst.
//   - At a fixed control rate (control.rate_hz > 0) each tick steps the
//     latest image only (sample and hold), so nothing queues.
//
// A replaced image ends with the reason a tick saw it wait for, or
// Superseded when it never waited (no tick saw it, or the loop was behind).

// nextStatic makes room for a new static image and returns the frame to
// fill. Called under mu.
func (l *Loop) nextStatic() *frame {
	in := &l.inbox
	q := &in.static
	switch {
	case in.stepping:
		l.dropQueued(true)
	case !in.everyImage || q.n > 0 && q.at(0).waited == NoInstruction:
		l.dropQueued(false)
	case q.n == QueueDepth:
		l.dropped(q.dropOldest(), false)
	}
	in.anyStatic = true
	l.nextSeq++
	return q.push()
}

// nextGripper makes room for a new gripper image and returns the frame to
// fill. Called under mu.
func (l *Loop) nextGripper() *frame {
	q := &l.inbox.gripper
	if q.n == QueueDepth {
		q.dropOldest()
	}
	l.nextSeq++
	return q.push()
}

// dropQueued ends every queued static image without a step.
func (l *Loop) dropQueued(behind bool) {
	for q := &l.inbox.static; q.n > 0; {
		l.dropped(q.dropOldest(), behind)
	}
}

// dropped counts a static image ended without a step; the next tick
// records it (the diagnostics window belongs to the ticking goroutine).
func (l *Loop) dropped(f *frame, behind bool) {
	why := f.waited
	if why == Stepped || behind {
		why = Superseded
	}
	l.inbox.ended[why]++
}

// gripperFor finds the gripper image to step static frame f with: the
// oldest one at least as new as f, as the cameras are not synchronised
// and both views should show the same moment. It is the one the last step
// used (queued < 0), or the queued one at index queued. Called under mu.
func (l *Loop) gripperFor(f *frame) (queued int, ok bool) {
	t := f.stamp.Nanos()
	if l.gripper.seq != 0 && l.gripper.stamp.Nanos() >= t {
		return -1, true
	}
	q := &l.inbox.gripper
	for i := 0; i < q.n; i++ {
		if q.at(i).stamp.Nanos() >= t {
			return i, true
		}
	}
	return -1, false
}

// takeGripper makes the queued gripper image at index i the one to step
// with, dropping the older ones: later static images are newer still.
// Called under mu.
func (l *Loop) takeGripper(i int) {
	q := &l.inbox.gripper
	for ; i > 0; i-- {
		q.dropOldest()
	}
	l.gripper = q.take(l.gripper)
}
