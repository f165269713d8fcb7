package schemas

import (
	"context"
	"fmt"
	"sync"
)

// flight makes concurrent fetches of one schema id share one request, so a
// burst of records with a new id does not become a burst of registry calls.
type flight struct {
	mu    sync.Mutex
	calls map[int32]*call
}

type call struct {
	done chan struct{}
	val  string
	err  error
}

// do runs fn once for all callers asking for id at the same time. A caller
// whose ctx ends stops waiting; the fetch goes on for the others.
func (f *flight) do(ctx context.Context, id int32, fn func() (string, error)) (string, error) {
	f.mu.Lock()
	if c, ok := f.calls[id]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.val, c.err
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ErrRegistryUnavailable, ctx.Err())
		}
	}
	if f.calls == nil {
		f.calls = map[int32]*call{}
	}
	c := &call{done: make(chan struct{})}
	f.calls[id] = c
	f.mu.Unlock()

	c.val, c.err = fn()
	f.mu.Lock()
	delete(f.calls, id)
	f.mu.Unlock()
	close(c.done)
	return c.val, c.err
}
