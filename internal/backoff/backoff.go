package backoff

import (
	"context"
	"time"
)

// Policy is an exponential delay: First after the first failure, doubled
// after each further one, never more than Max (Max below First is First).
type Policy struct {
	First, Max time.Duration
}

// Delay is the wait before trying again after failures failures in a row
// (0 or less is taken as 1): First·2^(failures-1), at most Max.
func (p Policy) Delay(failures int) time.Duration {
	d := p.First
	for i := 1; i < failures && d < p.Max; i++ {
		d *= 2
	}
	return min(d, max(p.Max, p.First))
}

// Sleep waits d, or until ctx ends; it reports whether the whole wait
// passed (false: ctx ended first).
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Backoff is one retry loop's state under its Policy: how many failures
// in a row it has waited for. Not safe for concurrent use: each loop owns
// its own.
type Backoff struct {
	p        Policy
	failures int
}

// New returns a Backoff that waits first, then doubles up to max.
func New(first, max time.Duration) *Backoff { return &Backoff{p: Policy{First: first, Max: max}} }

// Next is the delay the next Wait sleeps.
func (b *Backoff) Next() time.Duration { return b.p.Delay(b.failures + 1) }

// Failures is how many Waits there were since the last Reset.
func (b *Backoff) Failures() int { return b.failures }

// Wait counts a failure and sleeps Next; it returns false if ctx ended
// first.
func (b *Backoff) Wait(ctx context.Context) bool {
	d := b.Next()
	b.failures++
	return Sleep(ctx, d)
}

// Reset starts the delays over at First (after a success).
func (b *Backoff) Reset() { b.failures = 0 }
