package drift

import "math"

// stackBins is how many features Observe bins on the stack before taking
// the lock; wider profiles bin under the lock instead.
const stackBins = 64

var nan32 = float32(math.NaN())

// Observe counts one event: its decoded record (plain Go values, nil for
// null) and the model's score on it (NaN when there is none). Missing
// values and unknown categories count in their own bins. It does not
// allocate or do I/O and is safe for concurrent use.
func (m *Monitor) Observe(rec map[string]any, score float32) {
	if k := uint64(m.cfg.SampleEvery); k > 1 && m.seen.Add(1)%k != 0 {
		return
	}
	if !m.stackSafe {
		m.mu.Lock()
		m.addLocked(rec, score)
		n := m.acc.n
		m.mu.Unlock()
		m.maybeKick(n)
		return
	}
	var buf [stackBins]int32
	idx := buf[:0]
	feats := m.lay.feats
	for i := range feats {
		idx = append(idx, feats[i].binOf(rec[feats[i].name]))
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

// ObserveBatch counts a batch of events; scores[i] is the score of
// recs[i] (scores may be nil when there are none). It is safe for
// concurrent use.
func (m *Monitor) ObserveBatch(recs []map[string]any, scores []float32) {
	k := uint64(m.cfg.SampleEvery)
	m.mu.Lock()
	for i, rec := range recs {
		if k > 1 && m.seen.Add(1)%k != 0 {
			continue
		}
		s := nan32
		if i < len(scores) {
			s = scores[i]
		}
		m.addLocked(rec, s)
	}
	n := m.acc.n
	m.mu.Unlock()
	if n >= int64(m.cfg.FlushEvents) && n-int64(len(recs)) < int64(m.cfg.FlushEvents) {
		m.kickNow()
	}
}

func (m *Monitor) addLocked(rec map[string]any, score float32) {
	c := m.acc
	feats := m.lay.feats
	for i := range feats {
		c.c[feats[i].binOf(rec[feats[i].name])]++
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
