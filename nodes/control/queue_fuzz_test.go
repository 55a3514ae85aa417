package control

import (
	"testing"
	"time"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// FuzzLoopAccounting plays any sequence of images, instructions, ticks
// (with and without /clock), rate changes and images arriving during a
// step through the loop, and checks the queue's promises: images step in
// the order they came, each with a gripper image at least as new, the
// queue never holds more than QueueDepth, and every static image is
// accounted for exactly once: stepped, or counted by a reason.
func FuzzLoopAccounting(f *testing.F) {
	m := policytest.WriteModel(f, 2)
	f.Add([]byte{0, 2, 3, 0, 0, 0, 7, 7, 7})             // together, then each steps
	f.Add([]byte{1, 2, 0, 0, 4, 4, 1, 1, 3, 7, 7})       // before /clock, with a gripper camera
	f.Add([]byte{0, 2, 6, 0, 0, 3, 7, 5, 0, 0, 3})       // an image during the step; a fixed rate
	f.Add([]byte{1, 2, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 9}) // gripper images never come: the queue fills
	f.Fuzz(func(t *testing.T, ops []byte) {
		be := policytest.NewBackend(m)
		eng, err := policy.New(policy.Config{Manifest: m, Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		l := NewLoop(eng, 10)
		l.SetLimits(500*time.Millisecond, 1)
		if len(ops) > 0 {
			l.needGripper = ops[0]%2 == 1 // as for a model with a gripper camera
		}
		const frame = int64(10 * time.Millisecond)
		stamp := int64(time.Hour) // of the latest static image
		sent, lastStepped := 0, int64(0)
		static := func() {
			stamp += frame
			sent++
			l.OnStaticImage(rgbImage(stamp, 1))
		}
		during := 0 // images to send during the next step
		be.BeforeRun = func(stage int) {
			for ; stage == 0 && during > 0; during-- {
				static()
			}
		}
		tick := func(now int64) {
			out, skip, err := l.Tick(now)
			if err != nil {
				t.Fatalf("tick: %v", err)
			}
			if skip == Stepped {
				s := out.Action.Header.Stamp.Nanos()
				if s <= lastStepped {
					t.Fatalf("stepped the image stamped %d after the one stamped %d", s, lastStepped)
				}
				lastStepped = s
				if l.needGripper && l.gripper.stamp.Nanos() < s {
					t.Fatalf("stepped with a gripper image older than the static one: %d < %d", l.gripper.stamp.Nanos(), s)
				}
			}
		}
		for i, op := range ops {
			switch op % 10 {
			case 0:
				static()
			case 1: // a gripper image, a little before or after the latest static one
				l.OnGripperImage(rgbImage(stamp+int64(op/10%3-1)*frame/2, 1))
			case 2:
				l.OnInstruction("move")
			case 3:
				tick(stamp + frame)
			case 4:
				tick(0) // under use_sim_time, before the first /clock
			case 5:
				l.SetEveryImage(i%2 == 0)
			case 6:
				during = int(op/10%3) + 1
			case 7:
				tick(stamp + frame)
				for l.Backlog() {
					tick(stamp + frame)
				}
			case 8:
				tick(stamp + int64(time.Hour)) // the queued images are stale
			case 9:
				l.Reset()
			}
			l.mu.Lock()
			n := l.inbox.static.n
			l.mu.Unlock()
			if n > QueueDepth || n < 0 {
				t.Fatalf("%d images queued", n)
			}
		}
		unseen := l.Abandon()
		c := l.Counts()
		total := unseen
		for s, n := range c.ByReason {
			if Skip(s).counted() || Skip(s) == Stepped {
				total += int(n)
			}
		}
		if total != sent {
			t.Fatalf("%d static images accounted for (%v, %d unseen), %d sent", total, c.ByReason, unseen, sent)
		}
	})
}
