// Package sim is a small deterministic tabletop simulator, a miniature of
// CALVIN, for training and evaluating a tiny DeeR-style policy closed loop.
//
// A world holds a table (x, y in [-1, 1] metres, z >= 0 up), three or four
// coloured blocks, two target bins (left at negative x, right at positive x)
// and an end effector with a position, a yaw angle and a two-state gripper.
// Each control step takes a 7-DoF relative [Action], moves the effector,
// applies the grasp, release, fall and push rules, renders a 64x64 static
// camera and a 32x32 gripper camera, and checks the episode's task.
//
// Everything depends only on the seed passed to [Env.Reset]: there is no
// global random source, no clock and no map iteration, so the same seed and
// the same actions give the same images byte for byte.
//
// The caller's loop:
//
//	env, err := sim.New(sim.Config{})
//	if err != nil { ... }
//	obs := env.Reset(seed, sim.TaskPick)
//	for {
//		a := env.Expert() // or a learnt policy reading obs
//		var info sim.StepInfo
//		obs, info = env.Step(a)
//		if info.Done { break }
//	}
//
// Task families ([TaskKind]), from easy to hard: reach (move above a
// block, at most 60 steps), push (push a block 0.3 m right with the closed
// gripper, 100), pick (grasp and lift a block, 80) and place (grasp, carry
// and release a block in a bin, 120). Grasping needs the open gripper
// centred on the block, low enough and aligned in yaw (modulo a quarter
// turn); opening releases the block, which falls to the table.
//
// Simplifications: blocks never stack or collide with each other (a
// released block lands on the table, a pushed one may overlap another),
// the open gripper passes around blocks, and pushing treats block and
// gripper as discs.
//
// [Env.Expert] is a scripted policy that sees the true state. Its episodes
// are easy while it moves in free space (large, steady actions) and hard
// near contact (slow alignment, grasp, release), which is what an
// early-exit policy can exploit.
package sim
