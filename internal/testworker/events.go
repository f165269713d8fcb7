package testworker

import (
	"context"
	"sync"

	"github.com/sluice-ml/sluice/registry"
)

// Events is a registry.Emitter that keeps the model events it is given,
// where a worker's writes them to Kafka; safe for concurrent use.
type Events struct {
	mu  sync.Mutex
	evs []registry.Event
}

// Emit keeps ev.
func (r *Events) Emit(_ context.Context, ev registry.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

// All returns the events so far, oldest first.
func (r *Events) All() []registry.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]registry.Event(nil), r.evs...)
}

// Of returns the events of type typ so far ("" for every model).
func (r *Events) Of(typ registry.EventType) []registry.Event { return r.Find("", typ) }

// Find returns the events of model ("" for every model) of type typ.
func (r *Events) Find(model string, typ registry.EventType) []registry.Event {
	var out []registry.Event
	for _, ev := range r.All() {
		if (model == "" || ev.Model == model) && ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}
