package pipeline

import (
	"errors"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/producers"
)

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
