package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// fetch reads messages, tracks them (blocking at the in-flight cap) and
// hands each to the decode worker that owns its partition. It closes the
// decode channels when ctx ends.
func (w *Worker) fetch(ctx context.Context) error {
	defer func() {
		for _, c := range w.decodeIn {
			close(c)
		}
	}()
	backoff := newBackoff(50*time.Millisecond, 5*time.Second)
	var fenced uint64
	for {
		// Wait for room first: a message held while Track waits would be
		// one more redelivery after a crash than the in-flight cap.
		if err := w.tracker.WaitForRoom(ctx); err != nil {
			return nil
		}
		// A message fetched before the first generation is of the first.
		gen := max(w.reader.Generation(), 1)
		msg, err := w.reader.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("fetching", "err", err, "retry_in", backoff.peek())
			if !backoff.wait(ctx) {
				return nil
			}
			continue
		}
		backoff.reset()
		if gen != fenced {
			// The group rebalanced: hold back commits of partitions that
			// may have moved (see consumers.Tracker).
			w.tracker.Fence(gen)
			fenced = gen
		}
		if err := w.tracker.Track(ctx, msg); err != nil {
			// Not tracked, so never acknowledged or committed: it is
			// fetched again after a restart.
			return nil
		}
		ev := &event{msg: msg, fetched: time.Now()}
		w.decodeIn[int(msg.Partition)%len(w.decodeIn)] <- ev
	}
}

// decode turns messages into mapped rows, dead-lettering what cannot be read.
// A registry that is down is waited out rather than dead-lettered.
func (w *Worker) decode(ctx context.Context, in <-chan *event) error {
	backoff := newBackoff(100*time.Millisecond, 5*time.Second)
	plans := map[int32]*fieldPlan{} // this goroutine's, by schema id
	for ev := range in {
		if class := w.decodeOne(ctx, ev, backoff, plans); class != "" {
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

func (w *Worker) decodeOne(ctx context.Context, ev *event, backoff *backoff, plans map[int32]*fieldPlan) string {
	if len(ev.msg.Value) > w.cfg.MaxRecordBytes {
		ev.dlqErr = errors.New("record larger than max_record_bytes")
		return "too_large"
	}
	var fields schemas.Fields
	var id int32
	for {
		var err error
		fields, id, err = w.deps.Decoder.DecodeFields(ctx, ev.msg.Value)
		if err == nil {
			backoff.reset()
			break
		}
		var de *schemas.DecodeError
		if errors.As(err, &de) {
			ev.dlqErr = err
			return de.Class
		}
		// The registry is unavailable: what may decode later is retried.
		w.deps.Metrics.decodeRetries.Inc()
		w.log.Warn("schema registry unavailable; retrying", "err", err, "retry_in", backoff.peek())
		if !backoff.wait(ctx) {
			ev.dlqErr = err
			return "unknown_schema"
		}
	}
	m, release := w.deps.Models.Acquire()
	defer release()
	sig := m.Signature()
	p := plans[id]
	if p == nil || p.sig != sig {
		p = newFieldPlan(fields.Names, sig)
		plans[id] = p
	}
	ev.setFields(fields, p)
	return w.mapFields(ev, sig, p.pos)
}

// mapFields maps a decoded record's fields with the positions of sig's
// inputs in its schema.
func (w *Worker) mapFields(ev *event, sig *inference.Signature, pos []int) string {
	return w.mapWith(ev, sig, func(row []float32) error { return sig.MapFields(ev.fields.Values, pos, row) })
}

// mapRow maps ev's record as a map (a synchronous request's, or a record
// mapped again because the model was swapped since).
func (w *Worker) mapRow(ev *event, sig *inference.Signature) string {
	return w.mapWith(ev, sig, func(row []float32) error { return sig.MapRow(ev.record(), row) })
}

func (w *Worker) mapWith(ev *event, sig *inference.Signature, mapTo func([]float32) error) string {
	if cap(ev.row) < sig.Width() {
		ev.row = make([]float32, sig.Width())
	}
	ev.row = ev.row[:sig.Width()]
	ev.sig = sig
	if err := mapTo(ev.row); err != nil {
		ev.dlqErr = err
		var me *inference.MapError
		if errors.As(err, &me) {
			return me.Class
		}
		return "decode"
	}
	return ""
}

// deadLetter enqueues ev's original message on the DLQ topic; its offset is
// acknowledged when the broker acknowledges the dead letter.
func (w *Worker) deadLetter(ev *event, class string, err error) {
	ev.dlqClass = class
	if err == nil {
		err = errors.New(class)
	}
	dl := consumers.DeadLetter(ev.msg, w.cfg.Group, class, err, w.cfg.DLQTopic)
	dl.WriterData = ev
	w.enqueue([]kafka.Message{dl})
}

func (w *Worker) enqueue(msgs []kafka.Message) {
	if err := w.writer.Enqueue(msgs...); err != nil {
		w.log.Warn("enqueueing output", "err", err, "messages", len(msgs))
		w.retries <- msgs
	}
}

// completed is the writer's completion callback: it runs on the writer's
// goroutines once per partition batch.
func (w *Worker) completed(msgs []kafka.Message, err error) {
	if err != nil {
		w.log.Warn("writing output failed; will retry", "err", err, "messages", len(msgs))
		cp := make([]kafka.Message, len(msgs))
		copy(cp, msgs)
		for i := range cp {
			cp[i].Partition, cp[i].Offset = 0, 0
		}
		select {
		case w.retries <- cp:
		default:
			w.log.Error("retry queue full; output left unacknowledged and will be redelivered", "messages", len(msgs))
		}
		return
	}
	now := time.Now()
	m := w.deps.Metrics
	for i := range msgs {
		ev, ok := msgs[i].WriterData.(*event)
		if !ok {
			continue
		}
		w.tracker.Ack(ev.msg)
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

// retry writes again what the writer gave up on, with backoff, until ctx ends.
func (w *Worker) retry(ctx context.Context) error {
	backoff := newBackoff(100*time.Millisecond, 5*time.Second)
	for {
		select {
		case <-ctx.Done():
			return nil
		case msgs := <-w.retries:
			if !backoff.wait(ctx) {
				return nil
			}
			w.deps.Metrics.produceRetry.Add(float64(len(msgs)))
			if err := w.writer.Enqueue(msgs...); err != nil {
				w.retries <- msgs
				continue
			}
			backoff.reset()
		}
	}
}
