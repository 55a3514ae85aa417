package fleet

import (
	"fmt"
	"os"

	"github.com/deervla/deer_vla/nodes/cli"
	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/replay"
)

// Settings are what every worker needs to open the engine and replay a
// bag, exactly as deer_vla_replay takes them. They travel inside the
// DoFns (exported fields, serialised by Beam), so a worker on another
// machine needs only the model folder and ONNX Runtime at the paths named.
type Settings struct {
	// ParamsYAML is the content of the -params file (read where the
	// pipeline is built), or empty.
	ParamsYAML string
	// Overrides are -p name:=value arguments, applied after ParamsYAML.
	Overrides []string
	// Model and Library are the -model and -ort-lib shortcuts.
	Model, Library string
	// Topics are the bag topics to read (after remapping).
	Topics replay.Topics
}

// Params resolves the node's parameters as cli.ParamFlags does.
func (s Settings) Params() (control.Params, error) {
	pf := cli.ParamFlags{Overrides: s.Overrides, Model: s.Model, Library: s.Library}
	if s.ParamsYAML != "" {
		f, err := os.CreateTemp("", "deer_vla_fleet_params_*.yaml")
		if err != nil {
			return control.Params{}, err
		}
		defer os.Remove(f.Name())
		if _, err := f.WriteString(s.ParamsYAML); err != nil {
			f.Close()
			return control.Params{}, err
		}
		if err := f.Close(); err != nil {
			return control.Params{}, err
		}
		pf.File = f.Name()
	}
	p, err := pf.Params()
	if err != nil {
		return control.Params{}, fmt.Errorf("fleet: parameters: %w", err)
	}
	return p, nil
}

// WithBudget returns p with the average GFLOPs budget set and explicit
// thresholds cleared, as deer_vla_replay's -sweep does; 0 keeps p.
func WithBudget(p control.Params, budget float64) (control.Params, error) {
	if budget == 0 {
		return p, nil
	}
	return p.With(map[string]control.Value{control.ParamAvgGFLOPs: control.Double(budget), control.ParamThresholds: control.Doubles(nil)}, false)
}
