package drift

import "testing"

// The tests hold their size on stationary data: over many windows drawn
// from the training distribution (without Redis), the share of windows
// flagged drifted stays within the family-wise significance.
func TestFalseAlarmRate(t *testing.T) {
	p := testProfile(t, 100_000)
	m, err := NewMonitor(testConfig(), "fraud", "3", p, nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	const windows, size = 300, 1000
	gen := newGen(81)
	var drifted int
	byTest := map[string]int{}
	for w := range windows {
		for range size {
			offerNext(m, gen)
		}
		m.mu.Lock()
		c := m.acc
		m.acc = m.newCounts()
		m.mu.Unlock()
		data := windowData{seq: int64(w), n: c.n, counts: make([]float64, len(c.c))}
		for i, v := range c.c {
			data.counts[i] = float64(v)
		}
		r := m.evaluateCounts("w", data)
		if r.Drifted {
			drifted++
		}
		for _, f := range append(r.Features, *r.Prediction) {
			if f.PValue < f.Threshold {
				byTest[f.Test]++
			}
			if f.PSI > f.PSIThreshold {
				byTest["psi"]++
			}
		}
	}
	frac := float64(drifted) / windows
	t.Logf("%d stationary windows of %d events: %d flagged (fraction %.4f, significance %.2f); by test %v",
		windows, size, drifted, frac, m.cfg.PValue, byTest)
	if frac > m.cfg.PValue+0.015 {
		t.Errorf("false-alarm fraction %.4f", frac)
	}
}
