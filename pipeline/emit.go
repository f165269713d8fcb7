package pipeline

import (
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// emit encodes one Prediction per scored event and enqueues them, keyed like
// their input, on the sink in the order they came. The values of one batch
// share one buffer (the sink holds them until the completion runs). What
// the side effects need (the events the Observer samples, the inputs the
// Keeper keeps) it hands to the side stage (side.go) and does not wait for.
func (w *Worker) emit() error {
	if w.sideIn != nil {
		defer close(w.sideIn)
	}
	id := w.deps.PredictionSchemaID
	var p schemas.Prediction
	var s sideFeed
	defer s.handOver(w)
	for {
		var batch []*event
		var ok bool
		select {
		case batch, ok = <-w.emitIn:
		case <-s.due:
			s.handOver(w)
			continue
		}
		if !ok {
			break
		}
		w.emitBatch(batch, id, &p)
		if w.sideIn != nil {
			s.add(w, batch)
		}
	}
	return nil
}

// emitBatch encodes and enqueues the predictions of one batch.
func (w *Worker) emitBatch(batch []*event, id int32, p *schemas.Prediction) {
	msgs := make([]kafka.Message, 0, len(batch))
	buf := make([]byte, 0, len(batch)*160)
	for _, ev := range batch {
		out := w.fillPrediction(p, ev)
		ev.score = out.Score
		if ev.reply != nil {
			ev.reply <- ev
			continue
		}
		start := len(buf)
		buf = schemas.AppendPrediction(buf, id, p)
		msgs = append(msgs, kafka.Message{
			Topic:      w.cfg.OutputTopic,
			Key:        ev.msg.Key,
			Value:      buf[start:len(buf):len(buf)],
			Headers:    carriedHeaders(ev.msg.Headers),
			WriterData: ev,
		})
		if ev.shadow != nil {
			msgs = append(msgs, w.shadowMessage(ev, out, id))
		}
	}
	if len(msgs) > 0 {
		w.enqueue(msgs)
	}
}

// fillPrediction sets p from ev and returns how ev's output row reads.
// p.Outputs reuses its memory: the caller encodes p before the next call.
func (w *Worker) fillPrediction(p *schemas.Prediction, ev *event) inference.Result {
	m := ev.model
	out := m.ReadOutput(ev.scores)
	t := ev.evTime
	if t.IsZero() {
		t = time.UnixMilli(0)
	}
	*p = schemas.Prediction{
		EventID:         ev.eventID,
		EntityID:        ev.entityID,
		ModelName:       m.Name(),
		ModelVersion:    m.Version(),
		Scores:          out.Scores,
		Classes:         classesOf(m, out),
		PredictedClass:  out.Class,
		Score:           out.Score,
		SourceTopic:     ev.msg.Topic,
		SourcePartition: int32(ev.msg.Partition),
		SourceOffset:    ev.msg.Offset,
		EventTime:       t,
		QueuedUS:        ev.inferStart.Sub(ev.fetched).Microseconds(),
		InferenceUS:     ev.inferTook.Microseconds(),
		BatchSize:       int32(ev.batchSize),
		Outputs:         namedOutputs(p.Outputs[:0], m, ev.scores),
	}
	return out
}

// classesOf is the class names of out.Scores: the model's classes when the
// scores are class probabilities, none otherwise (a score, or a label
// alone).
func classesOf(m *inference.Model, out inference.Result) []string {
	if c := m.Classes(); len(c) == len(out.Scores) {
		return c
	}
	return nil
}

// namedOutputs appends the outputs m carries by name in row to dst.
func namedOutputs(dst []schemas.NamedOutput, m *inference.Model, row []float32) []schemas.NamedOutput {
	if !m.HasNamed() {
		return dst
	}
	var buf [4]inference.NamedOutput
	for _, o := range m.AppendNamed(buf[:0], row) {
		dst = append(dst, schemas.NamedOutput(o))
	}
	return dst
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
