package sim_test

import (
	"fmt"

	"github.com/deervla/deer_vla/sim"
)

// Example plays one episode with the scripted expert.
func Example() {
	env, err := sim.New(sim.Config{ExpertNoise: 0.1})
	if err != nil {
		panic(err)
	}
	obs := env.Reset(3, sim.TaskPlace)
	fmt.Println(obs.Instruction, obs.StaticW, obs.GripperW)
	for {
		a := env.Expert() // a learnt policy would read obs instead
		var info sim.StepInfo
		obs, info = env.Step(a)
		if info.Done {
			fmt.Println("success:", info.Success)
			break
		}
	}
	// Output:
	// place the blue block in the right bin 64 32
	// success: true
}
