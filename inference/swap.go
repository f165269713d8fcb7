package inference

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// lease counts the holders of one served Model. A lease is made once per
// Model a Swapper serves; when it is retired, the last holder to release it
// closes drained, and whoever waits for that closes the Model.
type lease struct {
	m       *Model
	refs    atomic.Int64
	retired atomic.Bool
	once    sync.Once
	drained chan struct{}
	release func() // made once, so that Acquire does not allocate
}

func newLease(m *Model) *lease {
	l := &lease{m: m, drained: make(chan struct{})}
	l.release = l.put
	return l
}

// put drops one reference.
func (l *lease) put() {
	if l.refs.Add(-1) == 0 && l.retired.Load() {
		l.drain()
	}
}

func (l *lease) drain() { l.once.Do(func() { close(l.drained) }) }

// retire marks the lease as no longer handed out. Its holders finish with
// it; the last one to release it closes drained.
func (l *lease) retire() {
	l.retired.Store(true)
	if l.refs.Load() == 0 {
		l.drain()
	}
}

func noRelease() {}

// Swapper serves the current version of a model and swaps in a new one
// without stopping the callers that use it: Acquire hands out the current
// model with a release func; Swap makes later acquisitions get the new model
// at once and closes the old one only after every holder has released it.
// It can also serve a canary version to a share of keys and a shadow version
// beside production (see SetCanary, SetShadow). The hot path (Acquire,
// AcquireFor, AcquireShadow) takes no lock and does not allocate. All
// methods are safe for concurrent use.
type Swapper struct {
	prod   atomic.Pointer[lease]
	canary atomic.Pointer[route]
	shadow atomic.Pointer[route]

	mu     sync.Mutex // serializes Swap, SetCanary, SetShadow and Close
	closed bool
	bg     sync.WaitGroup // closers left behind by a Swap whose ctx ended
}

// ErrSwapperClosed is returned by Swap, SetCanary and SetShadow after Close.
var ErrSwapperClosed = errors.New("inference: swapper closed")

// NewSwapper returns a Swapper serving m; m may be nil, in which case
// Acquire returns a nil Model until the first Swap. The Swapper owns m from
// now on and closes it when it is swapped out or on Close.
func NewSwapper(m *Model) *Swapper {
	s := &Swapper{}
	if m != nil {
		s.prod.Store(newLease(m))
	}
	return s
}

// Acquire returns the production model and the func the caller must call,
// exactly once, when it no longer uses the model. The model is not closed
// before that call. It returns a nil Model (and a no-op release) when the
// Swapper serves none. Acquire satisfies pipeline.Models; it is safe for
// concurrent use, takes no lock and does not allocate.
func (s *Swapper) Acquire() (*Model, func()) {
	for {
		l := s.prod.Load()
		if l == nil {
			return nil, noRelease
		}
		l.refs.Add(1)
		// Still current after the reference was taken: a Swap that comes
		// later sees the reference and waits for it.
		if s.prod.Load() == l {
			return l.m, l.release
		}
		l.put()
	}
}

// Current returns the production model without acquiring it: for reading
// its name, version or signature, not for running it (use Acquire). It is
// safe for concurrent use.
func (s *Swapper) Current() *Model {
	if l := s.prod.Load(); l != nil {
		return l.m
	}
	return nil
}

// Swap makes m the production model: every Acquire from now on returns it.
// Then it waits until every holder of the model it replaced has released
// it, closes that model and returns. If ctx ends first, Swap returns an
// error wrapping ctx.Err(); the old model is then closed in the background
// once released (Close waits for that). m must be a loaded model that this
// Swapper does not serve already; the Swapper owns it once stored, and the
// caller keeps it when Swap refuses it (nil, already served, closed
// Swapper). Swap is safe for concurrent use.
func (s *Swapper) Swap(ctx context.Context, m *Model) error {
	if m == nil {
		return errors.New("inference: swap to a nil model")
	}
	s.mu.Lock()
	if err := s.checkNew(m); err != nil {
		s.mu.Unlock()
		return err
	}
	old := s.prod.Swap(newLease(m))
	s.mu.Unlock()
	return s.retire(ctx, old)
}

// checkNew refuses a model that is already served, and any model after
// Close. s.mu is held.
func (s *Swapper) checkNew(m *Model) error {
	if s.closed {
		return ErrSwapperClosed
	}
	if l := s.prod.Load(); l != nil && l.m == m {
		return fmt.Errorf("inference: model %s version %s is already served as production", m.name, m.version)
	}
	for _, r := range []*route{s.canary.Load(), s.shadow.Load()} {
		if r != nil && r.l.m == m {
			return fmt.Errorf("inference: model %s version %s is already served as canary or shadow", m.name, m.version)
		}
	}
	return nil
}

// retire stops handing out l (nil: nothing to do), waits for its holders
// and closes its model.
func (s *Swapper) retire(ctx context.Context, l *lease) error {
	if l == nil {
		return nil
	}
	l.retire()
	select {
	case <-l.drained:
		if err := l.m.Close(); err != nil {
			return fmt.Errorf("closing model %s version %s: %w", l.m.name, l.m.version, err)
		}
		return nil
	case <-ctx.Done():
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			<-l.drained
			_ = l.m.Close()
		}()
		return fmt.Errorf("draining model %s version %s: %w", l.m.name, l.m.version, ctx.Err())
	}
}

// Close stops serving: it retires the production, canary and shadow
// models, waits until their holders have released them and closes them.
// Call it after the callers of Acquire have stopped; it blocks while one
// still holds a model. Later Acquire calls return a nil Model; later Swap
// calls return ErrSwapperClosed. It is safe to call more than once.
func (s *Swapper) Close() error {
	s.mu.Lock()
	s.closed = true
	leases := []*lease{s.prod.Swap(nil)}
	for _, p := range []*atomic.Pointer[route]{&s.canary, &s.shadow} {
		if r := p.Swap(nil); r != nil {
			leases = append(leases, r.l)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, l := range leases {
		errs = append(errs, s.retire(context.Background(), l))
	}
	s.bg.Wait()
	return errors.Join(errs...)
}
