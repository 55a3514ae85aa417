// Package cli is the command-line plumbing the package's executables
// share: parameter flags in the ROS style, and opening the node core.
package cli

import (
	"errors"
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

// Flag names the tools share for the same things.
const (
	FlagModel   = "model"   // model folder
	FlagLibrary = "ort-lib" // libonnxruntime.so
	FlagParams  = "params"  // ROS 2 parameter YAML
	FlagParam   = "p"       // one parameter override name:=value
	FlagRemap   = "remap"   // one topic remap from:=to
	FlagOut     = "out"     // what the tool writes
)

// Register adds the flags to fs.
func (f *ParamFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.File, FlagParams, "", "ROS 2 parameter YAML `FILE` (as --params-file), e.g. params/deer_vla.yaml")
	fs.Func(FlagParam, "parameter override `name:=value` (repeatable, applied after -params), e.g. -p budget.avg_gflops:=2.5", func(s string) error {
		f.Overrides = append(f.Overrides, s)
		return nil
	})
	RegisterModel(fs, &f.Model, "", "model folder `DIR` (shortcut for -p model.path:=DIR; default: the package's model)")
	RegisterLibrary(fs, &f.Library, "shortcut for -p runtime.library:=PATH; ")
}

// RegisterModel adds -model DIR, the model folder, to fs.
func RegisterModel(fs *flag.FlagSet, dir *string, value, usage string) {
	fs.StringVar(dir, FlagModel, value, usage)
}

// RegisterLibrary adds -ort-lib PATH, ONNX Runtime's shared library, to
// fs; note opens its usage text's parenthesis.
func RegisterLibrary(fs *flag.FlagSet, path *string, note string) {
	fs.StringVar(path, FlagLibrary, "", "libonnxruntime.so `PATH` ("+note+"default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, then the copy scripts/fetch_onnxruntime.sh fetched)")
}

// RegisterRemaps adds the repeatable -remap from:=to to fs, as ROS's
// --remap: the tool's topic from is read from (or written to) the bag's
// topic to.
func RegisterRemaps(fs *flag.FlagSet, rules *[]string) {
	fs.Func(FlagRemap, "topic remap `from:=to` (repeatable, as ros2 --remap): read the tool's topic from the bag's topic, e.g. -remap /static_image:=/cam/front/image_raw", func(s string) error {
		if !strings.Contains(s, ":=") {
			return fmt.Errorf("want from:=to, e.g. /static_image:=/cam/front/image_raw")
		}
		*rules = append(*rules, s)
		return nil
	})
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

// Usage prints a command's usage header (synopsis and what it does), its
// flags, an optional epilogue (exit status, examples), and, for a command
// that takes -p, the node's parameter table.
func Usage(fs *flag.FlagSet, synopsis, epilogue string) func() {
	return func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", strings.TrimSpace(synopsis))
		fs.PrintDefaults()
		if epilogue != "" {
			fmt.Fprintf(fs.Output(), "\n%s\n", strings.TrimSpace(epilogue))
		}
		if fs.Lookup(FlagParam) != nil {
			fmt.Fprintf(fs.Output(), "\nParameters (-p name:=value, or -params FILE):\n%s", control.Help())
		}
	}
}

// Exit statuses the tools share.
const (
	ExitOK    = 0
	ExitError = 1 // the work failed: unreadable input, model, output
	ExitUsage = 2 // bad flags or arguments, as Go's flag package exits
)

// Fail prints err for command name on stderr and returns the exit status:
// 0 for -h, ExitUsage for a usage error, else ExitError.
func Fail(name string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var u UsageError
	if !errors.As(err, &u) || !u.Printed {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitError
}

// UsageError is a bad flag or argument. Printed: the flag package has
// printed it already, with the usage.
type UsageError struct {
	Err     error
	Printed bool
}

// UsageErrorf formats a usage error.
func UsageErrorf(format string, args ...any) error {
	return UsageError{Err: fmt.Errorf(format, args...)}
}

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Parse parses args into fs, marking errors as usage errors. fs must use
// flag.ContinueOnError; it has printed the usage for them already.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{Err: err, Printed: true}
	}
	return nil
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
