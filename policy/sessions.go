package policy

import "sync"

// sessions tracks which exit blocks have loaded sessions. Blocks 1..loaded
// are loaded; want is the deepest the plan allows. All fields but wg are
// guarded by Engine.mu.
type sessions struct {
	loaded  int
	want    int
	loading bool  // a background loader is running
	err     error // the last background load failure, cleared by a success
	wg      sync.WaitGroup
}

// reconcile frees blocks beyond want at once and starts loading missing
// ones in the background.
func (e *Engine) reconcile(want int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	s := &e.sess
	s.want = want
	for s.loaded > want {
		// A failed release leaves the session to Close; the engine no
		// longer runs it either way.
		_ = e.be.Release(blockStage(s.loaded))
		s.loaded--
	}
	if s.loaded < want && !s.loading {
		s.loading = true
		s.wg.Add(1)
		go e.loadBlocks()
	}
}

// loadBlocks loads blocks one at a time without holding the step lock, so
// steps go on at the old depth until each deeper block is ready.
func (e *Engine) loadBlocks() {
	defer e.sess.wg.Done()
	s := &e.sess
	for {
		e.mu.Lock()
		if e.closed || s.loaded >= s.want {
			s.loading = false
			e.mu.Unlock()
			return
		}
		k := s.loaded + 1
		e.mu.Unlock()

		err := e.be.Load(blockStage(k))

		e.mu.Lock()
		switch {
		case err != nil:
			s.err = err
			s.loading = false
			e.mu.Unlock()
			return
		case !e.closed && k == s.loaded+1 && k <= s.want:
			s.loaded, s.err = k, nil
		default: // the wanted depth fell while loading
			_ = e.be.Release(blockStage(k))
		}
		e.mu.Unlock()
	}
}

// LoadedExits returns how many exit blocks are loaded and the last
// background load error, if any.
func (e *Engine) LoadedExits() (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sess.loaded, e.sess.err
}
