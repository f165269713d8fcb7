package pipeline

import (
	"sync/atomic"

	"github.com/sluice-ml/sluice/inference"
)

// Models gives the worker the model version to score a batch with. Acquire
// returns the current model and a release func the worker calls when the
// batch is done; an implementation that hot-swaps versions closes an old
// version only after every batch that acquired it has released it.
// Implementations must be safe for concurrent use.
type Models interface {
	Acquire() (*inference.Model, func())
}

// StaticModel serves one model for the life of the worker.
type StaticModel struct {
	m atomic.Pointer[inference.Model]
}

// NewStaticModel returns a Models that always serves m.
func NewStaticModel(m *inference.Model) *StaticModel {
	s := &StaticModel{}
	s.m.Store(m)
	return s
}

// Acquire returns the model; release is a no-op.
func (s *StaticModel) Acquire() (*inference.Model, func()) { return s.m.Load(), func() {} }

// Serving returns the model now serving (nil when none is), to read its
// name, version, signature and outputs: the caller must not run it, since
// it may be swapped out and closed at any time. Safe for concurrent use.
func (w *Worker) Serving() *inference.Model {
	m, release := w.deps.Models.Acquire()
	defer release()
	return m
}

// Observer sees every scored event; the drift monitor implements it.
// Observe must be cheap and safe for concurrent use.
type Observer interface {
	Observe(rec map[string]any, score float32)
}

// A SamplingObserver picks the events it looks at before it sees them:
// Sample is called once per scored event, and each event it picked is
// shown with ObservedFields, as the decode stage keeps it (schemas.Fields:
// one names slice per schema), or with Observed as a map when it was
// decoded into one. The drift monitor implements it.
type SamplingObserver interface {
	Sample() bool
	Observed(rec map[string]any, score float32)
	ObservedFields(names []string, values []any, score float32)
}
