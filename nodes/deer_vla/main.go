//go:build ros2

// Command deer_vla is the ROS 2 node: an early-exit Vision-Language-Action
// policy with live compute budgets. See nodes/ros for topics and services
// and `deer_vla --help` for parameters.
//
//	ros2 run deer_vla deer_vla --ros-args --params-file params/deer_vla.yaml
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tiiuae/rclgo/pkg/rclgo"

	"github.com/deervla/deer_vla/nodes/control"
	"github.com/deervla/deer_vla/nodes/ros"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deer_vla:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	rosArgs, err := control.ParseRosArgs(args)
	if err != nil {
		return err
	}
	for _, a := range rosArgs.Rest {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Print(usage)
			fmt.Print(control.Help())
			return nil
		}
	}
	params, ignored, err := rosArgs.ParamValues()
	if err != nil {
		return err
	}
	env := control.ProcessEnvironment()
	if params, err = env.Resolve(params); err != nil {
		return err
	}
	rclArgs, _, err := rclgo.ParseArgs(args)
	if err != nil {
		return fmt.Errorf("ros arguments: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return ros.Run(ctx, ros.Config{Args: rosArgs, RclArgs: rclArgs, Params: params, Env: env, Ignored: ignored})
}
