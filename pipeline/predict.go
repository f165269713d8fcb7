package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// ErrNotServing is returned by Predict when the worker is not running.
var ErrNotServing = errors.New("pipeline: worker is not serving")

// Output is the model's answer for one record of a synchronous request:
// what its prediction on the output topic would carry.
type Output struct {
	Scores  []float32
	Classes []string // the names of Scores; nil when the model does not classify
	Class   string   // "" when the model does not classify
	Score   float32
	Named   []inference.NamedOutput // outputs carried by name (vectors)
	Model   string
	Version string
}

// RecordError says which record of a request could not be scored and why.
type RecordError struct {
	Index int
	Err   error
}

func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }
func (e *RecordError) Unwrap() error { return e.Err }

// Predict scores records synchronously through the same batcher and ONNX
// Runtime sessions as the Kafka path (the Open Inference Protocol endpoint
// uses it), so a caller gets exactly what a prediction on the output topic
// would say. Records are goavro-native maps read by field name. It is safe
// for concurrent use while Run runs.
func (w *Worker) Predict(ctx context.Context, recs []map[string]any) ([]Output, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	reply := make(chan *event, len(recs))
	evs := make([]*event, len(recs))
	m, release := w.deps.Models.Acquire()
	sig := m.Signature()
	release()
	for i, rec := range recs {
		ev := &event{fetched: time.Now(), reply: reply}
		f := fieldsOf(rec)
		p := newFieldPlan(f.Names, sig, w.cfg.Fields)
		class := ev.setFields(f, p)
		if class == "" {
			class = w.mapFields(ev, sig, p.pos)
		}
		if class != "" {
			return nil, &RecordError{Index: i, Err: ev.dlqErr}
		}
		evs[i] = ev
	}
	w.syncMu.RLock()
	if !w.serving {
		w.syncMu.RUnlock()
		return nil, ErrNotServing
	}
	for _, ev := range evs {
		select {
		case w.batchIn <- ev:
		case <-ctx.Done():
			w.syncMu.RUnlock()
			return nil, ctx.Err()
		}
	}
	w.syncMu.RUnlock()
	got := 0
	for got < len(evs) {
		select {
		case <-reply:
			got++
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]Output, len(evs))
	for i, ev := range evs {
		if ev.dlqClass != "" {
			return nil, &RecordError{Index: i, Err: ev.dlqErr}
		}
		m := ev.model
		r := m.ReadOutput(ev.scores)
		out[i] = Output{Scores: r.Scores, Classes: classesOf(m, r), Class: r.Class, Score: r.Score,
			Named: m.AppendNamed(nil, ev.scores), Model: m.Name(), Version: m.Version()}
	}
	return out, nil
}

// fieldsOf lays a request's record out as the decode stage keeps records:
// the one place the worker reads a map (the Open Inference Protocol's
// records arrive as maps).
func fieldsOf(rec map[string]any) schemas.Fields {
	f := schemas.Fields{Names: make([]string, 0, len(rec)), Values: make([]any, 0, len(rec))}
	for name, v := range rec {
		f.Names = append(f.Names, name)
		f.Values = append(f.Values, v)
	}
	return f
}

// Signature returns the signature of the model now serving.
func (w *Worker) Signature() *inference.Signature {
	m, release := w.deps.Models.Acquire()
	defer release()
	return m.Signature()
}
