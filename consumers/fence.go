package consumers

// Fence tells the Tracker that the messages tracked from now on were
// fetched in consumer-group generation gen (at least 1: Reader.Generation,
// read before the Fetch that returned them, or 1 if it was 0). When gen is
// newer than any seen, every partition is fenced (see Tracker): commits for
// it are held back until a message of it fetched in gen is tracked, and
// what of it was acknowledged but not committed leaves the in-flight count.
// Call it from the goroutine that calls Track whenever gen changes.
func (t *Tracker) Fence(gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fetchGen = gen
	t.fenceAll(gen)
}

// fenceAll fences every partition if gen is newer than any seen. Called
// with t.mu held.
func (t *Tracker) fenceAll(gen uint64) {
	if gen <= t.generation {
		return
	}
	t.generation = gen
	released := 0
	for _, p := range t.parts {
		p.fenced = true
		released += p.uncommitted
		t.committable -= p.uncommitted
		p.uncommitted = 0
	}
	t.release(released)
}
