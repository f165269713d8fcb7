package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/schemas"
)

// decode turns messages into mapped rows, dead-lettering what cannot be read.
// A registry that is down is waited out rather than dead-lettered.
func (w *Worker) decode(ctx context.Context, in <-chan *event) error {
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	plans := map[int32]*fieldPlan{} // this goroutine's, by schema id
	for ev := range in {
		if class := w.decodeOne(ctx, ev, bo, plans); class != "" {
			w.deadLetter(ev, class, ev.dlqErr)
			continue
		}
		select {
		case w.batchIn <- ev:
		case <-ctx.Done(): // grace period over: left unacknowledged, redelivered later
		}
	}
	return nil
}

func (w *Worker) decodeOne(ctx context.Context, ev *event, bo *backoff.Backoff, plans map[int32]*fieldPlan) dlq.Class {
	if len(ev.msg.Value) > w.cfg.MaxRecordBytes {
		ev.dlqErr = errors.New("record larger than max_record_bytes")
		return dlq.TooLarge
	}
	var fields schemas.Fields
	var id int32
	for {
		var err error
		fields, id, err = w.deps.Decoder.DecodeFields(ctx, ev.msg.Value)
		if err == nil {
			bo.Reset()
			break
		}
		var de *schemas.DecodeError
		if errors.As(err, &de) {
			ev.dlqErr = err
			return de.Class
		}
		// The registry is unavailable: what may decode later is retried.
		w.deps.Metrics.decodeRetries.Inc()
		w.log.Warn("schema registry unavailable; retrying", "err", err, "retry_in", bo.Next())
		if !bo.Wait(ctx) {
			ev.dlqErr = err
			return dlq.UnknownSchema
		}
	}
	m, release := w.deps.Models.Acquire()
	defer release()
	sig := m.Signature()
	p := plans[id]
	if p == nil || p.sig != sig {
		p = newFieldPlan(fields.Names, sig, w.cfg.Fields)
		plans[id] = p
	}
	if class := ev.setFields(fields, p); class != "" {
		return class
	}
	return w.mapFields(ev, sig, p.pos)
}

// mapFields maps a decoded record's fields with the positions of sig's
// inputs in its schema.
func (w *Worker) mapFields(ev *event, sig *inference.Signature, pos []int) dlq.Class {
	ev.sig = sig
	return mapClass(ev, sig.MapFieldsInto(ev.fields.Values, pos, &ev.row))
}

// remap maps ev's fields again for sig, a model swapped in since they were
// mapped: the positions are found for this event alone (swaps are rare).
func (w *Worker) remap(ev *event, sig *inference.Signature) dlq.Class {
	return w.mapFields(ev, sig, sig.Positions(ev.fields.Names))
}

// mapClass keeps a mapping error on ev and returns its dead-letter class.
func mapClass(ev *event, err error) dlq.Class {
	if err == nil {
		return ""
	}
	ev.dlqErr = err
	var me *inference.MapError
	if errors.As(err, &me) {
		return me.Class
	}
	return dlq.Decode
}
