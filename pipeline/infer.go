package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

const inferAttempts = 3

// infer scores each batch on the current model. A batch that fails is
// retried with backoff, then split in halves until the rows that fail are
// isolated; those are dead-lettered with class inference.
func (w *Worker) infer(ctx context.Context) error {
	var rows, out []float32
	for batch := range w.batchOut {
		m, release := w.deps.Models.Acquire()
		start := time.Now()
		w.scoreBatch(ctx, m, batch, &rows, &out)
		took := time.Since(start)
		release()
		good := batch[:0:0]
		for _, ev := range batch {
			ev.inferStart, ev.inferTook, ev.batchSize = start, took, len(batch)
			switch {
			case ev.dlqClass != "" && ev.reply != nil:
				ev.reply <- ev
			case ev.dlqClass != "":
				w.deadLetter(ev, ev.dlqClass, ev.dlqErr)
			default:
				good = append(good, ev)
			}
		}
		if len(good) > 0 {
			w.emitIn <- good
		}
	}
	return nil
}

// scoreBatch fills ev.scores for every event it can score.
func (w *Worker) scoreBatch(ctx context.Context, m *inference.Model, batch []*event, rows, out *[]float32) {
	sig := m.Signature()
	width, outWidth := sig.Width(), m.OutWidth()
	*rows = grow(*rows, len(batch)*width)
	for i, ev := range batch {
		if ev.sig != sig { // the model was swapped since the row was mapped
			if class := w.mapRow(ev, sig); class != "" {
				ev.dlqClass = class
			}
		}
		copy((*rows)[i*width:(i+1)*width], ev.row)
	}
	*out = grow(*out, len(batch)*outWidth)
	var err error
	backoff := newBackoff(20*time.Millisecond, 500*time.Millisecond)
	for attempt := 0; attempt < inferAttempts; attempt++ {
		if attempt > 0 {
			w.deps.Metrics.inferRetries.Inc()
			if !backoff.wait(ctx) {
				break
			}
		}
		if _, err = m.Infer(ctx, *rows, len(batch), *out); err == nil {
			break
		}
	}
	if err == nil {
		scores := make([]float32, len(batch)*outWidth) // one allocation per batch, shared by its events
		copy(scores, *out)
		for i, ev := range batch {
			ev.scores, ev.model = scores[i*outWidth:(i+1)*outWidth:(i+1)*outWidth], m
		}
		return
	}
	if len(batch) == 1 {
		batch[0].dlqClass, batch[0].dlqErr = "inference", fmt.Errorf("scoring with %s/%s: %w", m.Name(), m.Version(), err)
		return
	}
	w.log.Warn("inference failed; splitting batch to isolate failing rows", "err", err, "rows", len(batch))
	half := len(batch) / 2
	w.scoreBatch(ctx, m, batch[:half], rows, out)
	w.scoreBatch(ctx, m, batch[half:], rows, out)
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
