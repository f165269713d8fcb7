package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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
// batches at once, on as many goroutines; their events go on to the emit
// stage in the order the batcher made the batches, so predictions for one
// key still leave in the order their events came in. A full batch (or one
// MaxDelay old) goes to the first idle session; a partial batch only while
// no batch is being scored, so that under load batches still grow while
// the sessions are busy, as with one.
func (w *Worker) infer(ctx context.Context) error {
	p := &scorers{w: w, ctx: ctx, ready: map[uint64][]*event{}, quiet: make(chan struct{}, 1)}
	p.workers = 1
	p.wg.Go(p.run)
	p.wg.Wait()
	return nil
}

// scorers are the infer stage's goroutines: one to start with, and more,
// up to the sessions of the model serving, as batches show them.
type scorers struct {
	w   *Worker
	ctx context.Context
	wg  sync.WaitGroup

	// take is held while a goroutine waits for and takes the next batch,
	// so that tickets follow the batches' order.
	take    sync.Mutex
	ticket  uint64
	workers int

	busy  atomic.Int32  // batches being scored
	quiet chan struct{} // signalled when busy falls to zero

	// emit hands scored batches to the emit stage in ticket order.
	emit  sync.Mutex
	next  uint64
	ready map[uint64][]*event // scored, waiting for an earlier ticket
}

func (p *scorers) run() {
	var sc scratch
	for {
		p.take.Lock()
		batch, ok := p.nextBatch()
		if !ok {
			p.take.Unlock()
			return
		}
		t := p.ticket
		p.ticket++
		groups := p.w.route(batch)
		p.w.noteVersions(groups)
		for _, g := range groups {
			if p.workers < min(g.model.Sessions(), maxScorers) {
				p.workers++
				p.wg.Go(p.run)
			}
		}
		p.busy.Add(1)
		p.take.Unlock()
		good := p.w.scoreGroups(p.ctx, batch, groups, &sc)
		if p.busy.Add(-1) == 0 {
			select {
			case p.quiet <- struct{}{}:
			default:
			}
		}
		p.done(t, good)
	}
}

// nextBatch waits for the batcher's next full batch, or for a partial one
// while no batch is being scored; false when the batcher is done.
func (p *scorers) nextBatch() ([]*event, bool) {
	for {
		var partial <-chan []*event
		if p.busy.Load() == 0 {
			partial = p.w.partial
		}
		select {
		case batch, ok := <-p.w.batchOut:
			return batch, ok
		case batch := <-partial:
			return batch, true
		case <-p.quiet: // look again
		}
	}
}

// maxScorers bounds the infer stage's goroutines (inference.sessions is at
// most 64).
const maxScorers = 64

// done passes on the batch of ticket t and every later one already scored
// that it held up.
func (p *scorers) done(t uint64, good []*event) {
	p.emit.Lock()
	defer p.emit.Unlock()
	p.ready[t] = good
	for {
		g, ok := p.ready[p.next]
		if !ok {
			return
		}
		delete(p.ready, p.next)
		p.next++
		if len(g) > 0 {
			p.w.emitIn <- g
		}
	}
}

// scratch is what one scoring goroutine reuses from batch to batch.
type scratch struct {
	rows []*inference.Row
	out  []float32
}

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
