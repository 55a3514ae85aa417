// Package cli is the command-line plumbing the package's executables
// share: parameter flags in the ROS style, and opening the node core.
package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/deervla/deer_vla/nodes/control"
)

// ParamFlags are -params FILE and repeatable -p name:=value, applied over
// the defaults in that order, as ros2 run --ros-args does.
type ParamFlags struct {
	File      string
	Overrides []string
	Model     string
	Library   string
}

// Register adds the flags to fs.
func (f *ParamFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.File, "params", "", "ROS 2 parameter YAML (as --params-file), e.g. params/deer_vla.yaml")
	fs.Func("p", "parameter override name:=value (repeatable), e.g. -p budget.avg_gflops:=2.5", func(s string) error {
		f.Overrides = append(f.Overrides, s)
		return nil
	})
	fs.StringVar(&f.Model, "model", "", "model folder (shortcut for -p model.path:=DIR)")
	fs.StringVar(&f.Library, "ort-lib", "", "libonnxruntime.so (shortcut for -p runtime.library:=PATH)")
}

// Params resolves the parameters.
func (f *ParamFlags) Params() (control.Params, error) {
	changes := map[string]control.Value{}
	if f.File != "" {
		vals, err := control.LoadParamsFile(f.File, "/"+control.NodeName)
		if err != nil {
			return control.Params{}, err
		}
		changes = vals
	}
	for _, arg := range f.Overrides {
		name, v, err := control.ParseParamArg(arg)
		if err != nil {
			return control.Params{}, err
		}
		changes[name] = v
	}
	if f.Model != "" {
		changes[control.ParamModelPath] = control.String(f.Model)
	}
	if f.Library != "" {
		changes[control.ParamLibrary] = control.String(f.Library)
	}
	return control.DefaultParams().With(changes, true)
}

// OpenNode opens the engine and node core with p.
func OpenNode(p control.Params) (*control.Node, error) {
	eng, err := control.OpenEngine(p, control.ProcessEnvironment())
	if err != nil {
		return nil, err
	}
	n, err := control.NewNode(eng, p)
	if err != nil {
		eng.Close()
		return nil, err
	}
	return n, nil
}

// Usage prints a command's synopsis, its flags and the parameter table.
func Usage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", strings.TrimSpace(synopsis))
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nParameters (-p name:=value, or -params FILE):\n%s", control.Help())
	}
}

// Interactive reports whether progress output suits stderr: a terminal,
// and not CI.
func Interactive() bool {
	if os.Getenv("CI") != "" {
		return false
	}
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
