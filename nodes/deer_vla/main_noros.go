//go:build !ros2

// Command deer_vla is the ROS 2 node. This build has no ROS 2 support:
// build with `go build -tags ros2` against a sourced ROS 2 Humble (colcon
// does), or use deer_vla_replay to run the same control loop on bags.
package main

import (
	"fmt"
	"os"

	"github.com/deervla/deer_vla/nodes/control"
)

func main() {
	for _, a := range os.Args[1:] {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Print(usage)
			fmt.Print(control.Help())
			return
		}
	}
	fmt.Fprintln(os.Stderr, "deer_vla: built without ROS 2 support; build with -tags ros2 against a sourced ROS 2 Humble (colcon build does), or run deer_vla_replay on a bag")
	os.Exit(2)
}
