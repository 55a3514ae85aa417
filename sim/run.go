package sim

// Result summarises one episode.
type Result struct {
	Task    TaskKind
	Steps   int
	Success bool
}

// Run plays one episode of env with p from Reset(seed, task) until it is
// done.
func Run(env *Env, p Policy, seed uint64, task TaskKind) Result {
	obs := env.Reset(seed, task)
	for {
		var info StepInfo
		obs, info = env.Step(p.Act(env, obs))
		if info.Done {
			return Result{Task: env.st.Task, Steps: info.Step, Success: info.Success}
		}
	}
}
