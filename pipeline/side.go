package pipeline

import (
	"context"
	"time"
)

// The side stage runs the worker's side effects beside the emit stage, on
// its own goroutine, so that neither lengthens it: the drift tap (the
// Observer bins the events it sampled) and the feature log (the Keeper
// keeps each batch's inputs for the retrainer's label join, a Redis write).
// The emit stage samples (one atomic add per event) and hands over what
// the side effects need; it never waits for them: when the side stage is
// sideQueue hand-overs behind (Redis slow or down), the next hand-over is
// dropped, its kept inputs counted in sluice_keep_errors_total, with one
// log line until the side stage catches up. Predictions never wait for a
// side effect.

// sideWork is one hand-over from emit to the side stage.
type sideWork struct {
	observe []*event    // events the Observer sampled
	keep    []KeptEvent // a batch's inputs, for the Keeper
}

const (
	// sideQueue is how many hand-overs wait for the side stage.
	sideQueue = 64
	// The Observer's picks alone cross in chunks of tapChunk, or tapDelay
	// after the first of a chunk: under load a batch holds a few picked
	// events, and the chunks spare the side stage a wake-up per batch. A
	// Keeper's share goes with every batch, and the picks with it.
	tapChunk = 64
	tapDelay = 50 * time.Millisecond
)

// sideFeed is what the emit stage gathers for the side stage. Only the
// emit goroutine uses it.
type sideFeed struct {
	picked []*event
	due    <-chan time.Time // tapDelay after the first pick waiting
	behind bool             // the last hand-over was dropped
}

// add gathers what batch holds for the side effects and hands it over
// when it is time.
func (s *sideFeed) add(w *Worker, batch []*event) {
	if o := w.deps.Observer; o != nil {
		for _, ev := range batch {
			if o.Sample() {
				s.picked = append(s.picked, ev)
			}
		}
	}
	var keep []KeptEvent
	if w.deps.Keeper != nil {
		keep = make([]KeptEvent, 0, len(batch))
		for _, ev := range batch {
			if ev.reply == nil {
				keep = append(keep, KeptEvent{EventID: ev.eventID, Value: ev.msg.Value})
			}
		}
	}
	switch {
	case len(keep) > 0 || len(s.picked) >= tapChunk:
		s.send(w, sideWork{observe: s.picked, keep: keep})
	case len(s.picked) > 0 && s.due == nil:
		s.due = time.After(tapDelay)
	}
}

// handOver sends the picks waiting, if any.
func (s *sideFeed) handOver(w *Worker) {
	if len(s.picked) > 0 {
		s.send(w, sideWork{observe: s.picked})
	}
	s.picked, s.due = nil, nil
}

// send hands work to the side stage without waiting for it.
func (s *sideFeed) send(w *Worker, work sideWork) {
	s.picked, s.due = nil, nil
	select {
	case w.sideIn <- work:
		s.behind = false
		return
	default:
	}
	if len(work.keep) > 0 {
		w.deps.Metrics.keepErrors.Inc()
	}
	if !s.behind {
		s.behind = true
		w.log.Warn("the side stage (drift tap, feature log) is behind; dropping its share of batches until it catches up, so that predictions do not wait",
			"queued", sideQueue, "events_not_kept", len(work.keep), "events_not_observed", len(work.observe))
	}
}

// side runs the side effects of what emit handed over, until emit closes
// sideIn. It is the last stage to read an event's record (the sink's
// completion reads only the event's own fields).
func (w *Worker) side(ctx context.Context) error {
	for work := range w.sideIn {
		if o := w.deps.Observer; o != nil {
			for _, ev := range work.observe {
				o.Observe(ev.fields.Names, ev.fields.Values, ev.score)
			}
		}
		if len(work.keep) > 0 {
			if err := w.deps.Keeper.Keep(ctx, work.keep); err != nil {
				w.deps.Metrics.keepErrors.Inc()
				w.log.Warn("keeping scored events for retraining", "err", err, "events", len(work.keep))
			}
		}
	}
	return nil
}
