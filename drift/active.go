package drift

import "sync/atomic"

// Active forwards observations to the monitor of the model version being
// served, so the pipeline can keep one observer across hot swaps. The zero
// value drops observations until Set is called. Safe for concurrent use.
type Active struct {
	m atomic.Pointer[Monitor]
}

// Set makes m (nil: none) the monitor that receives observations and
// returns the previous one, whose Run the caller then stops.
func (a *Active) Set(m *Monitor) *Monitor { return a.m.Swap(m) }

// Observe passes the event to the current monitor, if any.
func (a *Active) Observe(rec map[string]any, score float32) {
	if m := a.m.Load(); m != nil {
		m.Observe(rec, score)
	}
}

// ObserveBatch passes the batch to the current monitor, if any.
func (a *Active) ObserveBatch(recs []map[string]any, scores []float32) {
	if m := a.m.Load(); m != nil {
		m.ObserveBatch(recs, scores)
	}
}
