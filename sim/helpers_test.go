package sim

import "testing"

// mustNew returns an Env for cfg or stops the test.
func mustNew(tb testing.TB, cfg Config) *Env {
	tb.Helper()
	env, err := New(cfg)
	if err != nil {
		tb.Fatalf("New(%+v): %v", cfg, err)
	}
	return env
}
