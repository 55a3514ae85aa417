package control

import (
	"fmt"
	"strings"
)

// RosArgs is what the node needs from `--ros-args ... [--]`: rclgo parses
// these arguments for rcl but does not expose parameters, so the node reads
// them itself.
type RosArgs struct {
	NodeName    string   // after a __node:= remap; default NodeName
	Namespace   string   // after a __ns:= remap; default "/"
	ParamsFiles []string // --params-file, in order
	Params      []string // -p / --param name:=value, in order
	Rest        []string // arguments outside --ros-args
}

// ParseRosArgs splits the command line like rcl: ROS arguments sit between
// --ros-args and -- (or the end), possibly several times.
func ParseRosArgs(args []string) (RosArgs, error) {
	r := RosArgs{NodeName: NodeName, Namespace: "/"}
	inROS := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !inROS {
			if a == "--ros-args" {
				inROS = true
			} else {
				r.Rest = append(r.Rest, a)
			}
			continue
		}
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("control: %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch a {
		case "--":
			inROS = false
		case "--ros-args":
		case "-p", "--param":
			v, err := next()
			if err != nil {
				return r, err
			}
			r.Params = append(r.Params, v)
		case "--params-file":
			v, err := next()
			if err != nil {
				return r, err
			}
			r.ParamsFiles = append(r.ParamsFiles, v)
		case "-r", "--remap":
			v, err := next()
			if err != nil {
				return r, err
			}
			from, to, ok := strings.Cut(v, ":=")
			if !ok {
				return r, fmt.Errorf("control: remap %q: want from:=to", v)
			}
			switch from {
			case "__node", "__name":
				r.NodeName = to
			case "__ns":
				r.Namespace = "/" + strings.Trim(to, "/")
			}
		case "--log-level", "--enclave", "-e":
			if _, err := next(); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// FQN is the node's fully qualified name.
func (r RosArgs) FQN() string {
	if r.Namespace == "/" {
		return "/" + r.NodeName
	}
	return r.Namespace + "/" + r.NodeName
}

// ParamValues applies params files (keys matched against the final name) then
// -p overrides to the defaults, as rcl does; read-only parameters may be
// set here.
func (r RosArgs) ParamValues() (Params, error) {
	changes := map[string]Value{}
	for _, f := range r.ParamsFiles {
		vals, err := LoadParamsFile(f, r.FQN())
		if err != nil {
			return Params{}, err
		}
		for k, v := range vals {
			changes[k] = v
		}
	}
	for _, p := range r.Params {
		name, v, err := ParseParamArg(p)
		if err != nil {
			return Params{}, err
		}
		changes[name] = v
	}
	return DefaultParams().With(changes, true)
}
