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
	rows := make([]float32, len(picked)*sig.Width())
	kept := picked[:0]
	for _, ev := range picked {
		if sig.MapRow(ev.record(), rows[len(kept)*sig.Width():(len(kept)+1)*sig.Width()]) == nil {
			kept = append(kept, ev)
		}
	}
	if len(kept) == 0 {
		return
	}
	out := make([]float32, len(kept)*m.OutWidth())
	if _, err := m.Infer(ctx, rows[:len(kept)*sig.Width()], len(kept), out); err != nil {
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
	r := sr.model.Signature().ReadOutput(sr.scores)
	agree := "no"
	if r.Class == prod.Class {
		agree = "yes"
	}
	w.deps.Metrics.shadowAgreement.WithLabelValues(agree).Inc()
	var p schemas.Prediction
	w.fillPrediction(&p, ev)
	p.ModelVersion, p.Scores, p.PredictedClass, p.Score = sr.model.Version(), sr.scores, r.Class, r.Score
	p.Classes = sr.model.Signature().Output.Classes
	return kafka.Message{Topic: w.cfg.ShadowTopic, Key: ev.msg.Key, Value: schemas.AppendPrediction(nil, id, &p)}
}
