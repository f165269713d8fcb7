package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/backoff"
)

const inferAttempts = 3

// infer scores each batch on the current model. A batch that fails is
// retried with backoff, then split in halves until the rows that fail are
// isolated; those are dead-lettered with class inference.
//
// A model with several sessions (inference.sessions) scores as many
// batches at once; their results go on to the emit stage in the order the
// batcher made the batches, so predictions for one key still leave in the
// order their events came in.
func (w *Worker) infer(ctx context.Context) error {
	// Futures, in batch order: each receives its batch's scored events.
	order := make(chan chan []*event, 4)
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for f := range order {
			if good := <-f; len(good) > 0 {
				w.emitIn <- good
			}
		}
	}()
	done := make(chan struct{}, 64) // one per finished concurrent batch
	running := 0
	var sc scratch
	for batch := range w.batchOut {
		groups := w.route(batch)
		w.noteVersions(groups)
		limit := 1
		for _, g := range groups {
			limit = max(limit, g.model.Sessions())
		}
		limit = min(limit, cap(done))
		for ; running >= limit; running-- {
			<-done
		}
		f := make(chan []*event, 1)
		order <- f
		if limit == 1 { // no session to spare: score here
			f <- w.scoreGroups(ctx, batch, groups, &sc)
			continue
		}
		running++
		go func() {
			s := scratchPool.Get().(*scratch)
			f <- w.scoreGroups(ctx, batch, groups, s)
			scratchPool.Put(s)
			done <- struct{}{}
		}()
	}
	for ; running > 0; running-- {
		<-done
	}
	close(order)
	<-emitted
	return nil
}

// scratch is what one scoring goroutine reuses from batch to batch.
type scratch struct {
	rows []*inference.Row
	out  []float32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// scoreGroups scores batch, split by model version into groups, and
// returns the events to emit; it dead-letters those that cannot be scored.
func (w *Worker) scoreGroups(ctx context.Context, batch []*event, groups []routed, sc *scratch) []*event {
	start := time.Now()
	for _, g := range groups {
		w.scoreBatch(ctx, g.model, g.events, &sc.rows, &sc.out)
		g.release()
	}
	for _, ev := range batch {
		ev.row.Release() // copied into the sessions' tensors
	}
	took := time.Since(start)
	w.shadow(ctx, batch)
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
	return good
}

// scoreBatch fills ev.scores for every event it can score.
func (w *Worker) scoreBatch(ctx context.Context, m *inference.Model, batch []*event, rows *[]*inference.Row, out *[]float32) {
	sig := m.Signature()
	outWidth := m.OutWidth()
	failed := false
	for _, ev := range batch {
		if ev.sig != sig { // the model was swapped since the row was mapped
			if class := w.remap(ev, sig); class != "" {
				ev.dlqClass, failed = class, true
			}
		}
	}
	if failed { // score the others
		batch = slices.DeleteFunc(slices.Clone(batch), func(ev *event) bool { return ev.dlqClass != "" })
		if len(batch) == 0 {
			return
		}
	}
	*rows = (*rows)[:0]
	for _, ev := range batch {
		*rows = append(*rows, &ev.row)
	}
	var err error
	bo := backoff.New(20*time.Millisecond, 500*time.Millisecond)
	for attempt := 0; attempt < inferAttempts; attempt++ {
		if attempt > 0 {
			w.deps.Metrics.inferRetries.Inc()
			if !bo.Wait(ctx) {
				break
			}
		}
		if *out, err = m.InferRows(ctx, *rows, *out); err == nil {
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
		batch[0].dlqClass, batch[0].dlqErr = dlq.Inference, fmt.Errorf("scoring with %s/%s: %w", m.Name(), m.Version(), err)
		return
	}
	w.log.Warn("inference failed; splitting batch to isolate failing rows", "err", err, "rows", len(batch))
	half := len(batch) / 2
	w.scoreBatch(ctx, m, batch[:half], rows, out)
	w.scoreBatch(ctx, m, batch[half:], rows, out)
}

// noteVersions keeps sluice_model_info naming the versions now scoring.
func (w *Worker) noteVersions(groups []routed) {
	same := len(groups) == len(w.infoModels)
	for i := 0; same && i < len(groups); i++ {
		same = groups[i].model == w.infoModels[i]
	}
	if same {
		return
	}
	w.infoModels = w.infoModels[:0]
	w.deps.Metrics.modelInfo.Reset()
	for _, g := range groups {
		w.infoModels = append(w.infoModels, g.model)
		w.deps.Metrics.modelInfo.WithLabelValues(g.model.Name(), g.model.Version()).Set(1)
	}
}

// KeyRouter is implemented by Models that send some keys to another
// version (a canary takes a share of keys, sticky per key).
type KeyRouter interface {
	AcquireFor(key []byte) (*inference.Model, func())
}

// routed is the part of a batch one model version scores.
type routed struct {
	model   *inference.Model
	release func()
	events  []*event
}

// route splits a batch by the version each event's key is served by. With
// no canary every event goes to production and the batch stays whole.
func (w *Worker) route(batch []*event) []routed {
	router, ok := w.deps.Models.(KeyRouter)
	if !ok {
		m, release := w.deps.Models.Acquire()
		return []routed{{m, release, batch}}
	}
	var groups []routed
	for _, ev := range batch {
		m, release := router.AcquireFor(ev.msg.Key)
		found := false
		for i := range groups {
			if groups[i].model == m {
				groups[i].events = append(groups[i].events, ev)
				release() // the group's first acquisition keeps m alive
				found = true
				break
			}
		}
		if !found {
			groups = append(groups, routed{m, release, make([]*event, 0, len(batch))})
			groups[len(groups)-1].events = append(groups[len(groups)-1].events, ev)
		}
	}
	return groups
}
