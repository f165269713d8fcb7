package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

// fetch hands each message the source fetched (blocking at the in-flight
// cap) to the decode worker that owns its partition. It closes the decode
// channels when ctx ends.
func (w *Worker) fetch(ctx context.Context) error {
	defer func() {
		for _, c := range w.decodeIn {
			close(c)
		}
	}()
	bo := backoff.New(50*time.Millisecond, 5*time.Second)
	for {
		msg, err := w.source.Next(ctx)
		if err != nil {
			// ctx ended or the source closed: what was not handed out is
			// fetched again by whoever reads its partition next.
			if ctx.Err() != nil || errors.Is(err, consumers.ErrClosed) {
				return nil
			}
			w.log.Warn("fetching", "err", err, "retry_in", bo.Next())
			if !bo.Wait(ctx) {
				return nil
			}
			continue
		}
		bo.Reset()
		ev := &event{msg: msg, fetched: time.Now()}
		w.decodeIn[int(msg.Partition)%len(w.decodeIn)] <- ev
	}
}

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

// deadLetter enqueues ev's original message on the DLQ topic; its offset is
// acknowledged when the broker acknowledges the dead letter.
func (w *Worker) deadLetter(ev *event, class dlq.Class, err error) {
	ev.dlqClass = class
	if err == nil {
		err = errors.New(string(class))
	}
	dl := consumers.DeadLetter(ev.msg, w.cfg.Group, class, err, w.cfg.DLQTopic)
	dl.WriterData = ev
	w.enqueue([]kafka.Message{dl})
}

// enqueue hands msgs to the sink. A message larger than its topic takes
// is made to fit (see fit); what cannot be enqueued now goes to the
// retrier.
func (w *Worker) enqueue(msgs []kafka.Message) {
	for {
		err := w.sink.Enqueue(msgs...)
		if err == nil {
			return
		}
		var tl *producers.TooLargeError
		if errors.As(err, &tl) {
			if fitted, ok := w.fit(msgs, tl); ok {
				msgs = fitted
				if len(msgs) == 0 {
					return
				}
				continue
			}
		}
		w.retries.failed(msgs, err)
		return
	}
}

// completed is the sink's Completion: it runs on the sink's goroutines,
// once per group of messages written (a partition's batch).
func (w *Worker) completed(msgs []kafka.Message, err error) {
	if err != nil {
		w.retries.failed(msgs, err)
		return
	}
	now := time.Now()
	m := w.deps.Metrics
	for i := range msgs {
		var ev *event
		switch d := msgs[i].WriterData.(type) {
		case *event:
			ev = d
		case *retryData:
			w.retries.written(d)
			ev = d.ev
		}
		if ev == nil {
			continue
		}
		w.source.Ack(ev.msg)
		if ev.dlqClass != "" {
			m.deadLetters.WithLabelValues(reasonLabel(ev.dlqClass)).Inc()
			continue
		}
		m.predictions.Inc()
		m.processing.Observe(now.Sub(ev.fetched).Seconds())
		if t := ev.evTime; !t.IsZero() {
			d := now.Sub(t)
			m.endToEnd.Observe(d.Seconds())
			if w.deps.OnLatency != nil {
				w.deps.OnLatency(d)
			}
		}
	}
}
