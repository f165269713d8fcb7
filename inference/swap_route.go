package inference

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Buckets is the number of key buckets a canary percentage or a shadow
// fraction is measured in: 10000, so the share is exact to 0.01%.
const Buckets = 10000

// route serves one lease to the keys whose bucket is below limit. A new
// route is stored for every change, so Acquire can tell a change by the
// pointer alone.
type route struct {
	l     *lease
	limit uint32 // buckets served, 0..Buckets
}

// KeyBucket returns the canary bucket of a key, in [0, Buckets):
// xxhash64(key) mod 10000. A key is served by the canary when its bucket is
// below percent × 100, so a key stays with the canary as the percentage
// grows. It is safe for concurrent use and does not allocate.
func KeyBucket(key []byte) uint32 { return uint32(xxhash.Sum64(key) % Buckets) }

// shadowBucket is the bucket the shadow sample uses: the high half of the
// same hash, so that shadow sampling does not follow the canary split.
func shadowBucket(key []byte) uint32 { return uint32((xxhash.Sum64(key) >> 32) % Buckets) }

// AcquireFor returns the model that serves key: the canary when one is set
// and KeyBucket(key) is below its percentage × 100, the production model
// otherwise (as Acquire). The same key gets the same version for as long as
// the canary and its percentage stay. The caller must call release exactly
// once. It is safe for concurrent use, takes no lock and does not allocate.
func (s *Swapper) AcquireFor(key []byte) (*Model, func()) {
	if m, release := acquireRoute(&s.canary, key, KeyBucket); m != nil {
		return m, release
	}
	return s.Acquire()
}

// AcquireShadow returns the shadow model when one is set and key falls in
// its sampled fraction, and nil otherwise (with a no-op release). The
// caller scores the event with it beside the model AcquireFor returns and
// must call release exactly once. It is safe for concurrent use, takes no
// lock and does not allocate.
func (s *Swapper) AcquireShadow(key []byte) (*Model, func()) {
	if m, release := acquireRoute(&s.shadow, key, shadowBucket); m != nil {
		return m, release
	}
	return nil, noRelease
}

func acquireRoute(p *atomic.Pointer[route], key []byte, bucket func([]byte) uint32) (*Model, func()) {
	for {
		r := p.Load()
		if r == nil || bucket(key) >= r.limit {
			return nil, noRelease
		}
		r.l.refs.Add(1)
		if p.Load() == r {
			return r.l.m, r.l.release
		}
		r.l.put()
	}
}

// Canary returns the canary model (nil when none) and the percentage of
// keys it serves, without acquiring it. It is safe for concurrent use.
func (s *Swapper) Canary() (*Model, float64) { return peek(&s.canary, 100) }

// Shadow returns the shadow model (nil when none) and the fraction of
// events it scores, without acquiring it. It is safe for concurrent use.
func (s *Swapper) Shadow() (*Model, float64) { return peek(&s.shadow, 1) }

func peek(p *atomic.Pointer[route], scale float64) (*Model, float64) {
	r := p.Load()
	if r == nil {
		return nil, 0
	}
	return r.l.m, float64(r.limit) / Buckets * scale
}

// SetCanary serves m to percent (0 < percent ≤ 100) of the keys given to
// AcquireFor; m nil removes the canary. Passing the model already serving
// as canary only changes the percentage. A canary model that is replaced or
// removed is drained and closed as in Swap (ctx bounds the wait likewise).
// The Swapper owns m once SetCanary has stored it; on an error returned
// before that (a bad percent, a model already served, a closed Swapper) the
// caller keeps m. It is safe for concurrent use.
func (s *Swapper) SetCanary(ctx context.Context, m *Model, percent float64) error {
	if m != nil && !(percent > 0 && percent <= 100) {
		return fmt.Errorf("inference: canary percent %v is not in (0, 100]", percent)
	}
	return s.setRoute(ctx, &s.canary, m, percent/100)
}

// SetShadow makes m score fraction (0 < fraction ≤ 1) of the events given
// to AcquireShadow; m nil removes the shadow. It works as SetCanary
// otherwise. It is safe for concurrent use.
func (s *Swapper) SetShadow(ctx context.Context, m *Model, fraction float64) error {
	if m != nil && !(fraction > 0 && fraction <= 1) {
		return fmt.Errorf("inference: shadow fraction %v is not in (0, 1]", fraction)
	}
	return s.setRoute(ctx, &s.shadow, m, fraction)
}

func (s *Swapper) setRoute(ctx context.Context, p *atomic.Pointer[route], m *Model, share float64) error {
	limit := uint32(math.Round(share * Buckets))
	if m != nil && limit == 0 {
		return fmt.Errorf("inference: a share of %v is less than one bucket in %d", share, Buckets)
	}
	s.mu.Lock()
	old := p.Load()
	var next *route
	if m != nil {
		if old != nil && old.l.m == m {
			next = &route{l: old.l, limit: limit}
		} else {
			if err := s.checkNew(m); err != nil {
				s.mu.Unlock()
				return err
			}
			next = &route{l: newLease(m), limit: limit}
		}
	}
	p.Store(next)
	s.mu.Unlock()
	if old == nil || (next != nil && next.l == old.l) {
		return nil
	}
	return s.retire(ctx, old.l)
}
