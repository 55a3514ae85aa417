package control

import (
	"fmt"
	"strings"
)

// RosArgs is what the node needs from `--ros-args ... [--]`: rclgo parses
// these arguments for rcl but does not expose parameters, so the node reads
// them itself.
type RosArgs struct {
	NodeName  string        // after a __node:= remap; default NodeName
	Namespace string        // after a __ns:= remap; default "/"
	Params    []ParamSource // --params-file and -p, in command-line order
	Rest      []string      // arguments outside --ros-args
}

// ParamSource is one --params-file (File) or -p argument (Param).
type ParamSource struct{ File, Param string }

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
			r.Params = append(r.Params, ParamSource{Param: v})
		case "--params-file":
			v, err := next()
			if err != nil {
				return r, err
			}
			r.Params = append(r.Params, ParamSource{File: v})
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

// ParamValues applies the params files and -p arguments that match the
// node's final name to the defaults, as rcl and rclcpp do (see Overrides);
// read-only parameters may be set here. Ignored lists the overrides that
// name no parameter of this node, for a warning.
func (r RosArgs) ParamValues() (p Params, ignored []string, err error) {
	var o Overrides
	for _, s := range r.Params {
		if s.File != "" {
			err = o.AddFile(s.File)
		} else {
			err = o.AddArg(s.Param)
		}
		if err != nil {
			return Params{}, nil, err
		}
	}
	vals, where, ignored, err := o.forNode(r.FQN())
	if err != nil {
		return Params{}, nil, err
	}
	for _, name := range sortedKeys(vals) { // say where a bad value came from
		if _, err := DefaultParams().With(map[string]Value{name: vals[name]}, true); err != nil {
			return Params{}, nil, fmt.Errorf("control: %s: %w", where[name], err)
		}
	}
	p, err = DefaultParams().With(vals, true)
	return p, ignored, err
}
