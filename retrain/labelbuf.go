package retrain

import (
	"slices"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/quality"
)

// labelled is one label joined with the framed input event it belongs to
// and the event's time (its event_time field, else the label's time).
// value is not changed once stored, so snapshots share it.
type labelled struct {
	label quality.Label
	value []byte
	at    time.Time
}

// ring keeps the most recent labelled records, at most its capacity. It is
// safe for concurrent use.
type ring struct {
	mu   sync.Mutex
	buf  []labelled
	next int // where the next record goes once buf is full
	size int
}

func newRing(size int) *ring { return &ring{size: size} }

// add stores recs, dropping the oldest beyond the capacity, and returns the
// number held.
func (r *ring) add(recs ...labelled) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		if len(r.buf) < r.size {
			r.buf = append(r.buf, rec)
			continue
		}
		r.buf[r.next] = rec
		r.next = (r.next + 1) % r.size
	}
	return len(r.buf)
}

// len returns the number of records held.
func (r *ring) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf)
}

// snapshot returns the records held, oldest label time first (ties in the
// order they were joined).
func (r *ring) snapshot() []labelled {
	r.mu.Lock()
	out := make([]labelled, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	out = append(out, r.buf[:r.next]...)
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b labelled) int { return a.label.Time.Compare(b.label.Time) })
	return out
}
