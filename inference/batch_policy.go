package inference

import "time"

// Policy decides when a batch is complete: at maxSize items, or maxDelay
// after the first item of the batch was added. It holds the items, starts
// no goroutines and reads time only through now, so tests drive it with a
// fake clock. It is not safe for concurrent use.
type Policy[T any] struct {
	maxSize  int
	maxDelay time.Duration
	now      func() time.Time
	items    []T
	first    time.Time // when items[0] was added
}

// NewPolicy returns an empty policy. maxSize < 1 is taken as 1; now nil is
// time.Now.
func NewPolicy[T any](maxSize int, maxDelay time.Duration, now func() time.Time) *Policy[T] {
	if maxSize < 1 {
		maxSize = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Policy[T]{maxSize: maxSize, maxDelay: maxDelay, now: now, items: make([]T, 0, maxSize)}
}

// Add appends v and reports whether the batch is full and should be
// flushed now.
func (p *Policy[T]) Add(v T) (full bool) {
	if len(p.items) == 0 {
		p.first = p.now()
	}
	p.items = append(p.items, v)
	return len(p.items) >= p.maxSize
}

// Len is the number of items waiting.
func (p *Policy[T]) Len() int { return len(p.items) }

// Flush hands over the items waiting (nil when there are none) and starts
// an empty batch. The returned slice belongs to the caller.
func (p *Policy[T]) Flush() []T {
	if len(p.items) == 0 {
		return nil
	}
	b := p.items
	p.items = make([]T, 0, p.maxSize)
	return b
}

// Pending is the batch waiting, without handing it over: after it has been
// sent, call Flush to start the next one.
func (p *Policy[T]) Pending() []T { return p.items }

// UntilNext is how long until the waiting batch is due: negative when no
// item waits, zero when it is due now.
func (p *Policy[T]) UntilNext() time.Duration {
	if len(p.items) == 0 {
		return -1
	}
	return max(p.first.Add(p.maxDelay).Sub(p.now()), 0)
}
