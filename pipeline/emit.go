package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// emit encodes one Prediction per scored event and enqueues them, keyed like
// their input, on the asynchronous writer in the order they came.
func (w *Worker) emit(ctx context.Context) error {
	for batch := range w.emitIn {
		msgs := make([]kafka.Message, 0, len(batch))
		for _, ev := range batch {
			value, err := w.encodePrediction(ev)
			if err != nil {
				w.deadLetter(ev, "inference", fmt.Errorf("encoding prediction: %w", err))
				continue
			}
			if w.deps.Observer != nil {
				w.deps.Observer.Observe(ev.rec, ev.model.Signature().ReadOutput(ev.scores).Score)
			}
			msgs = append(msgs, kafka.Message{
				Topic:      w.cfg.OutputTopic,
				Key:        ev.msg.Key,
				Value:      value,
				Headers:    carriedHeaders(ev.msg.Headers),
				WriterData: ev,
			})
		}
		if len(msgs) > 0 {
			w.enqueue(msgs)
		}
	}
	return nil
}

func (w *Worker) encodePrediction(ev *event) ([]byte, error) {
	m := ev.model
	sig := m.Signature()
	out := sig.ReadOutput(ev.scores)
	var predicted any
	if out.Class != "" {
		predicted = map[string]any{"string": out.Class}
	}
	classes := sig.Output.Classes
	if classes == nil {
		classes = []string{}
	}
	native := map[string]any{
		"event_id":         ev.stringField("event_id"),
		"entity_id":        ev.stringField("entity_id"),
		"model_name":       m.Name(),
		"model_version":    m.Version(),
		"scores":           ev.scores,
		"classes":          classes,
		"predicted_class":  predicted,
		"score":            out.Score,
		"source_topic":     ev.msg.Topic,
		"source_partition": int32(ev.msg.Partition),
		"source_offset":    ev.msg.Offset,
		"event_time":       ev.eventTime(),
		"queued_us":        ev.inferStart.Sub(ev.fetched).Microseconds(),
		"inference_us":     ev.inferTook.Microseconds(),
		"batch_size":       int32(ev.batchSize),
	}
	if native["event_time"].(time.Time).IsZero() {
		native["event_time"] = time.UnixMilli(0)
	}
	return w.deps.Encoder.Append(nil, native)
}

// carriedHeaders keeps the input headers that belong on the output (W3C
// trace context), and no others.
func carriedHeaders(in []kafka.Header) []kafka.Header {
	for _, h := range in {
		if h.Key == "traceparent" {
			out := []kafka.Header{h}
			for _, h2 := range in {
				if h2.Key == "tracestate" {
					out = append(out, h2)
				}
			}
			return out
		}
	}
	return nil
}
