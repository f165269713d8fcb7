package drift

import (
	"math"
	"slices"
	"time"
)

// stackBins is how many features Observe bins on the stack before taking
// the lock; wider profiles bin under the lock instead.
const stackBins = 64

var nan32 = float32(math.NaN())

// minRateInterval is the shortest interval adapt measures a rate over.
const minRateInterval = time.Millisecond

// Sample counts one event offered to the monitor and reports whether it is
// one to bin (see SampleEvery and MaxRate): the caller shows Observe only
// the events Sample picked, so it spares the others any work. It does one
// atomic add and is safe for concurrent use.
func (m *Monitor) Sample() bool {
	n, k := m.seen.Add(1), m.every.Load()
	return k <= 1 || n%k == 0
}

// Observe bins one event that Sample picked: its record as field names and
// values (values[i] is the value of names[i], plain Go values as the
// decoder gives them, nil for null; a feature names lacks counts as
// missing, as do unknown categories in their own bin) and the model's
// score on it (NaN when there is none). The monitor keeps where each
// feature sits in the last names slice it saw, so callers pass one slice
// per writer schema, not a copy per record (as schemas.Fields does). It
// does not allocate or do I/O for a known schema and is safe for
// concurrent use.
func (m *Monitor) Observe(names []string, values []any, score float32) {
	pos := m.positions(names)
	m.bin(score, func(_ *binner, i int) any {
		if p := pos[i]; p >= 0 && p < len(values) {
			return values[p]
		}
		return nil
	})
}

// fieldPositions is where each feature of the layout sits in one slice of
// field names (-1: absent).
type fieldPositions struct {
	names []string
	pos   []int
}

// positions returns where each feature sits in names, from the cache when
// names is the slice it was computed for.
func (m *Monitor) positions(names []string) []int {
	if c := m.fieldPos.Load(); c != nil && len(c.names) == len(names) && (len(names) == 0 || &c.names[0] == &names[0]) {
		return c.pos
	}
	c := &fieldPositions{names: names, pos: make([]int, len(m.lay.feats))}
	for i := range m.lay.feats {
		c.pos[i] = slices.Index(names, m.lay.feats[i].name)
	}
	m.fieldPos.Store(c)
	return c.pos
}

// bin counts one event whose value of feature i (feats[i]) is value(f, i).
func (m *Monitor) bin(score float32, value func(f *binner, i int) any) {
	if !m.stackSafe {
		m.mu.Lock()
		m.addLocked(score, value)
		n := m.acc.n
		m.mu.Unlock()
		m.maybeKick(n)
		return
	}
	var buf [stackBins]int32
	idx := buf[:0]
	feats := m.lay.feats
	for i := range feats {
		idx = append(idx, feats[i].binOf(value(&feats[i], i)))
	}
	if s := m.lay.score; s != nil {
		idx = append(idx, s.numBin(float64(score)))
	}
	m.mu.Lock()
	c := m.acc
	for _, j := range idx {
		c.c[j]++
	}
	c.n++
	n := c.n
	m.mu.Unlock()
	m.maybeKick(n)
}

func (m *Monitor) addLocked(score float32, value func(f *binner, i int) any) {
	c := m.acc
	feats := m.lay.feats
	for i := range feats {
		c.c[feats[i].binOf(value(&feats[i], i))]++
	}
	if s := m.lay.score; s != nil {
		c.c[s.numBin(float64(score))]++
	}
	c.n++
}

func (m *Monitor) maybeKick(n int64) {
	if n == int64(m.cfg.FlushEvents) {
		m.kickNow()
	}
}

// kickNow asks Run to flush early, without blocking.
func (m *Monitor) kickNow() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// adapt sets how many events Observe passes over per event it bins, from
// the rate seen since the last call: SampleEvery, or more when the rate
// divided by it would exceed MaxRate. Run calls it at every flush (each
// flush interval, and each FlushEvents binned events), so a burst is
// sampled within a few milliseconds of its start.
func (m *Monitor) adapt(now time.Time) {
	seen := m.seen.Load()
	if m.rateAt.IsZero() || m.cfg.MaxRate <= 0 {
		m.rateSeen, m.rateAt = seen, now
		return
	}
	dt := now.Sub(m.rateAt).Seconds()
	if dt < minRateInterval.Seconds() {
		return // too short to measure; the next call will see more
	}
	rate := float64(seen-m.rateSeen) / dt
	m.rateSeen, m.rateAt = seen, now
	k := max(uint64(m.cfg.SampleEvery), uint64(math.Ceil(rate/float64(m.cfg.MaxRate))))
	if old := m.every.Swap(k); old != k {
		m.met.sampling(m.model, int(k))
		m.log.Debug("drift: sampling changed", "bin_one_in", k, "events_per_s", int(rate), "max_rate", m.cfg.MaxRate)
	}
}
