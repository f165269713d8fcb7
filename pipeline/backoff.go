package pipeline

import (
	"context"
	"time"
)

// backoff is an exponential delay between min and max. Not safe for
// concurrent use: each loop owns its own.
type backoff struct {
	min, max, next time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, next: min} }

func (b *backoff) peek() time.Duration { return b.next }

func (b *backoff) reset() { b.next = b.min }

// wait sleeps for the current delay and doubles it; it returns false if ctx
// ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(b.next*2, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
