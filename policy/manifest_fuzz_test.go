package policy_test

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/deervla/deer_vla/policy"
	"github.com/deervla/deer_vla/policy/policytest"
)

// silentBackend is the scripted backend with stages that write nothing, so
// it runs any manifest, whatever its tensor names: outputs stay zero.
type silentBackend struct{ *policytest.Backend }

func (b silentBackend) Run(stage int) error {
	if !b.Loaded(stage) {
		return errors.New("stage run while not loaded")
	}
	return nil
}

// FuzzManifestEngineLoad parses any manifest text as the tiny model's
// (whose files exist), and loads every manifest that validates into an
// engine over the scripted backend, which allocates every declared tensor,
// then steps it once. Nothing may panic, and a step that succeeds must
// give a finite action: a validated manifest cannot turn zeros into NaN.
func FuzzManifestEngineLoad(f *testing.F) {
	f.Add([]byte(readTinyManifestF(f)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := policy.ParseManifest(filepath.Join(tinyDir, policy.ManifestFile), data)
		if err != nil {
			return
		}
		eng, err := policy.New(policy.Config{Manifest: m, Backend: silentBackend{policytest.NewBackend(m)}})
		if err != nil {
			return
		}
		defer eng.Close()
		obs := policy.Observation{Instruction: "move to the red block"}
		for _, c := range m.Cameras {
			if c.Width*c.Height > 256*256 {
				return // a valid but large camera: not worth a fuzz iteration
			}
			im := &policy.Image{Width: c.Width, Height: c.Height, Encoding: "rgb8", Data: make([]byte, 3*c.Width*c.Height)}
			if c.Slot == policy.SlotStatic {
				obs.Static = im
			} else {
				obs.Gripper = im
			}
		}
		r, err := eng.Step(&obs)
		if err != nil {
			return
		}
		for i, v := range r.Action.Pose {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("pose[%d] = %g from a validated manifest", i, v)
			}
		}
	})
}
