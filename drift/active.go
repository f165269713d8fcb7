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

// Sample asks the current monitor whether to show it the next event (false
// without one); see Monitor.Sample.
func (a *Active) Sample() bool {
	m := a.m.Load()
	return m != nil && m.Sample()
}

// Observe passes an event Sample picked to the current monitor, if any;
// see Monitor.Observe.
func (a *Active) Observe(names []string, values []any, score float32) {
	if m := a.m.Load(); m != nil {
		m.Observe(names, values, score)
	}
}
