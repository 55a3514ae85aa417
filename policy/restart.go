package policy

// Restart returns the engine to the state [New] left it in, keeping its
// sessions: the episode is forgotten (as [Engine.Reset]) and the average
// budget's window (Settings.BudgetWindow) starts again from the
// calibration's thresholds. A replay of many bags on one engine (a fleet
// replay opens one engine per worker) restarts it before each bag, so that
// each bag's actions are those of a replay on a freshly opened engine.
func (e *Engine) Restart() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.resetLocked()
	e.tracker = budgetTracker{}
}
