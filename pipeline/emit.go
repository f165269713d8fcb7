package pipeline

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// emit encodes one Prediction per scored event and enqueues them, keyed like
// their input, on the asynchronous writer in the order they came. The
// values of one batch share one buffer (the writer holds them until the
// completion runs).
func (w *Worker) emit(ctx context.Context) error {
	if w.observeIn != nil {
		defer close(w.observeIn)
	}
	id := w.deps.PredictionSchemaID
	so, sampling := w.deps.Observer.(SamplingObserver)
	var p schemas.Prediction
	// The events the SamplingObserver picked, not yet handed to observe:
	// they go when there are tapChunk of them or tapDelay after the first.
	var picked []*event
	var handOff <-chan time.Time
	handOver := func() {
		if len(picked) > 0 {
			w.observeIn <- picked
		}
		picked, handOff = nil, nil
	}
	defer handOver()
	for {
		var batch []*event
		var ok bool
		select {
		case batch, ok = <-w.emitIn:
		case <-handOff:
			handOver()
			continue
		}
		if !ok {
			break
		}
		w.emitBatch(ctx, batch, id, &p)
		switch {
		case w.observeIn == nil:
		case !sampling:
			w.observeIn <- batch
		default:
			for _, ev := range batch {
				if so.Sample() {
					picked = append(picked, ev)
				}
			}
			switch {
			case len(picked) >= tapChunk:
				handOver()
			case len(picked) > 0 && handOff == nil:
				handOff = time.After(tapDelay)
			}
		}
	}
	return nil
}

// A SamplingObserver's picks cross to the observe goroutine in chunks of
// tapChunk, or tapDelay after the first of a chunk: under load a batch holds
// a few picked events, and the chunks spare the tap's goroutine a wake-up
// per batch.
const (
	tapChunk = 64
	tapDelay = 50 * time.Millisecond
)

// emitBatch encodes and enqueues the predictions of one batch.
func (w *Worker) emitBatch(ctx context.Context, batch []*event, id int32, p *schemas.Prediction) {
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
		w.keep(ctx, batch)
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

// keep hands the batch's inputs to the Keeper, if any, in one call.
func (w *Worker) keep(ctx context.Context, batch []*event) {
	if w.deps.Keeper == nil {
		return
	}
	kept := make([]KeptEvent, 0, len(batch))
	for _, ev := range batch {
		if ev.reply == nil {
			kept = append(kept, KeptEvent{EventID: ev.eventID, Value: ev.msg.Value})
		}
	}
	if err := w.deps.Keeper.Keep(ctx, kept); err != nil {
		w.deps.Metrics.keepErrors.Inc()
		w.log.Warn("keeping scored events for retraining", "err", err, "events", len(kept))
	}
}

// observe hands scored events to the drift Observer on its own goroutine,
// so the tap runs beside the emit stage rather than lengthening it. A
// SamplingObserver picks its events in emit (one atomic add per event), and
// only the picked ones cross to this goroutine, in chunks (see tapChunk).
// The observe stage is the last to touch a record (the writer's completion
// reads only the event's own fields), so it may build the record's map here
// for an Observer that takes maps; a SamplingObserver takes the decoded
// fields as they are.
func (w *Worker) observe() error {
	so, sampling := w.deps.Observer.(SamplingObserver)
	for batch := range w.observeIn {
		for _, ev := range batch {
			switch {
			case !sampling:
				w.deps.Observer.Observe(ev.record(), ev.score)
			case ev.rec == nil && ev.fields.Names != nil:
				so.ObservedFields(ev.fields.Names, ev.fields.Values, ev.score)
			default:
				so.Observed(ev.record(), ev.score)
			}
		}
	}
	return nil
}
