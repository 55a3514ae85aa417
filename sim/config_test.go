package sim

import (
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		werr string
	}{
		{name: "zero value", cfg: Config{}},
		{name: "three blocks", cfg: Config{NumBlocks: 3}},
		{name: "four blocks", cfg: Config{NumBlocks: 4, ExpertNoise: 0.1, MaxSteps: 50}},
		{name: "two blocks", cfg: Config{NumBlocks: 2}, werr: "sim: bad config: 'NumBlocks' is 2, want 0, 3 or 4"},
		{name: "five blocks", cfg: Config{NumBlocks: 5}, werr: "sim: bad config: 'NumBlocks' is 5, want 0, 3 or 4"},
		{name: "negative step", cfg: Config{PosStepM: -1}, werr: "sim: bad config: 'PosStepM' is -1, want 0 to 0.2"},
		{name: "huge rotation", cfg: Config{RotStepRad: 1}, werr: "sim: bad config: 'RotStepRad' is 1, want 0 to 0.5"},
		{name: "negative noise", cfg: Config{ExpertNoise: -0.1}, werr: "sim: bad config: 'ExpertNoise' is -0.1, want 0 to 1"},
		{name: "negative max steps", cfg: Config{MaxSteps: -3}, werr: "sim: bad config: 'MaxSteps' is -3, want >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.werr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				if _, err := New(tc.cfg); err != nil {
					t.Fatalf("New() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.werr {
				t.Fatalf("Validate() = %v, want %q", err, tc.werr)
			}
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("Validate() = %v, want it to wrap ErrBadConfig", err)
			}
			if _, err := New(tc.cfg); err == nil {
				t.Fatalf("New() accepted %+v", tc.cfg)
			}
		})
	}
}

func TestMaxStepsOverride(t *testing.T) {
	env := mustNew(t, Config{SkipRender: true, MaxSteps: 7})
	if r := Run(env, NoopPolicy{}, 1, TaskPlace); r.Steps != 7 || r.Success {
		t.Fatalf("Run = %+v, want 7 steps without success", r)
	}
}
