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

// Observer is the drift tap: it picks the events it looks at and is shown
// each one it picked. Sample is called once per scored event on the emit
// stage and must be cheap (the drift monitor does one atomic add);
// Observe runs beside the emit stage (see side.go) with the record as the
// decode stage keeps it: field names (one slice per writer schema) and
// values. drift.Monitor and drift.Active implement it. Safe for concurrent
// use.
type Observer interface {
	Sample() bool
	Observe(names []string, values []any, score float32)
}
