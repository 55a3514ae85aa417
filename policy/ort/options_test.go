package ort

import "testing"

// Worker threads sleep when idle unless spinning is asked for: spinning
// threads slow every step when other processes share the cores.
func TestSpinningOption(t *testing.T) {
	if err := initRuntime(libraryPath(t)); err != nil {
		t.Fatal(err)
	}
	for _, spin := range []bool{false, true} {
		opts, err := Config{IntraOpThreads: 2, AllowSpinning: spin}.sessionOptions()
		if err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "0", true: "1"}[spin]
		for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
			if got, err := opts.GetSessionConfigEntry(key); err != nil || got != want {
				t.Errorf("AllowSpinning %v: %s = %q (%v), want %q", spin, key, got, err, want)
			}
		}
		opts.Destroy()
	}
}
