package pipeline

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// ShadowRouter is implemented by Models that score a sample of keys on a
// shadow version beside production. The shadow's outputs go to the shadow
// topic and never decide anything.
type ShadowRouter interface {
	AcquireShadow(key []byte) (*inference.Model, func())
}

// shadowResult is a shadow version's output for one event.
type shadowResult struct {
	model  *inference.Model
	scores []float32
}

// shadow scores the events of batch whose keys the shadow version samples.
// A failure is counted and otherwise ignored: the shadow must never hold up
// or change what production publishes.
func (w *Worker) shadow(ctx context.Context, batch []*event) {
	router, ok := w.deps.Models.(ShadowRouter)
	if !ok {
		return
	}
	var m *inference.Model
	var release func()
	var picked []*event
	for _, ev := range batch {
		if ev.reply != nil || ev.dlqClass != "" {
			continue
		}
		sm, rel := router.AcquireShadow(ev.msg.Key)
		if sm == nil {
			continue
		}
		if m == nil {
			m, release = sm, rel
		} else {
			rel()
		}
		if sm == m {
			picked = append(picked, ev)
		}
	}
	if m == nil {
		return
	}
	defer release()
	sig := m.Signature()
	rows := make([]inference.Row, len(picked))
	ptrs := make([]*inference.Row, 0, len(picked))
	kept := picked[:0]
	var names []string // the schema pos was found for
	var pos []int
	for i, ev := range picked {
		if !sameNames(names, ev.fields.Names) {
			names, pos = ev.fields.Names, sig.Positions(ev.fields.Names)
		}
		if sig.MapFieldsInto(ev.fields.Values, pos, &rows[i]) == nil {
			kept = append(kept, ev)
			ptrs = append(ptrs, &rows[i])
		}
	}
	if len(kept) == 0 {
		return
	}
	out, err := m.InferRows(ctx, ptrs, nil)
	if err != nil {
		w.deps.Metrics.shadowErrors.Inc()
		return
	}
	ow := m.OutWidth()
	for i, ev := range kept {
		ev.shadow = &shadowResult{model: m, scores: out[i*ow : (i+1)*ow : (i+1)*ow]}
	}
}

// shadowMessage is the shadow prediction for ev, and counts whether the
// shadow agreed with production.
func (w *Worker) shadowMessage(ev *event, prod inference.Result, id int32) kafka.Message {
	sr := ev.shadow
	r := sr.model.ReadOutput(sr.scores)
	agree := "no"
	if r.Class == prod.Class {
		agree = "yes"
	}
	w.deps.Metrics.shadowAgreement.WithLabelValues(agree).Inc()
	var p schemas.Prediction
	w.fillPrediction(&p, ev)
	p.ModelVersion, p.Scores, p.PredictedClass, p.Score = sr.model.Version(), r.Scores, r.Class, r.Score
	p.Classes = classesOf(sr.model, r)
	p.Outputs = namedOutputs(nil, sr.model, sr.scores)
	return kafka.Message{Topic: w.cfg.ShadowTopic, Key: ev.msg.Key, Value: schemas.AppendPrediction(nil, id, &p)}
}

// sameNames reports whether a and b are one writer schema's names: the
// decoder shares one slice per schema.
func sameNames(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
