package retrain

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/quality"
)

// Timing of the label join.
const (
	joinEvery    = 250 * time.Millisecond // look up due labels and commit
	joinBatch    = 1000                   // or as soon as this many labels wait
	retryFirst   = 250 * time.Millisecond // a missing event is looked up again after this,
	retryMax     = 10 * time.Second       // doubling up to this
	labelsQueued = 1024                   // fetched messages ahead of the join
)

// pendingLabel is a label whose event has not been found kept yet.
type pendingLabel struct {
	label       quality.Label
	first, next time.Time
	tries       int
}

// joiner joins labels with the events the feature log kept. Its pending
// labels are looked up again with backoff until LabelWait has passed, since
// a label can arrive before a worker has scored (and kept) its event. It
// is used by one goroutine.
type joiner struct {
	r       *Retrainer
	pending []pendingLabel
	fresh   int // labels offered since the last join
}

// offer queues a label for the join; one older than the feature TTL is
// dropped at once, since its event can no longer be kept.
func (j *joiner) offer(l quality.Label, now time.Time) {
	cfg := &j.r.cfg
	if !l.Time.IsZero() && now.Sub(l.Time) > cfg.FeatureTTL {
		j.r.metrics.label(labelExpired, 1)
		return
	}
	if len(j.pending) >= cfg.BufferSize {
		j.pending = j.pending[1:]
		j.r.metrics.label(labelUnmatched, 1)
	}
	j.pending = append(j.pending, pendingLabel{label: l, first: now, next: now})
	j.fresh++
}

// join looks up the labels that are due and moves the found ones into the
// ring. A Redis error leaves them pending for the next join.
func (j *joiner) join(ctx context.Context, now time.Time) {
	j.fresh = 0
	var due []int
	ids := make([]string, 0, len(j.pending))
	for i := range j.pending {
		if !j.pending[i].next.After(now) {
			due = append(due, i)
			ids = append(ids, j.pending[i].label.EventID)
		}
	}
	if len(ids) == 0 {
		return
	}
	vals, err := j.r.features.Lookup(ctx, ids)
	if err != nil {
		j.r.log.Warn("joining labels with kept features", "labels", len(ids), "err", err)
		return
	}
	found := make([]labelled, 0, len(ids))
	drop := make(map[int]bool, len(ids))
	unmatched := 0
	for k, i := range due {
		p := &j.pending[i]
		switch {
		case vals[k] != nil:
			found = append(found, labelled{label: p.label, value: vals[k], at: j.r.eventTime(ctx, vals[k], p.label)})
			drop[i] = true
		case now.Sub(p.first) >= j.r.cfg.LabelWait:
			unmatched++
			drop[i] = true
		default:
			p.tries++
			p.next = now.Add(backoff.Policy{First: retryFirst, Max: retryMax}.Delay(p.tries))
		}
	}
	kept := j.pending[:0]
	for i, p := range j.pending {
		if !drop[i] {
			kept = append(kept, p)
		}
	}
	clear(j.pending[len(kept):])
	j.pending = kept
	j.r.metrics.label(labelJoined, len(found))
	j.r.metrics.label(labelUnmatched, unmatched)
	if len(found) > 0 {
		j.r.metrics.setBuffered(j.r.ring.add(found...))
	}
}

// runLabels reads labels and joins them until ctx ends. Offsets are
// committed once the labels are queued for the join: the buffer lives in
// memory, so a restart refills it from new labels.
func (r *Retrainer) runLabels(ctx context.Context, rd *consumers.Reader) {
	msgs := make(chan kafka.Message, labelsQueued)
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.fetchLoop(fctx, rd, msgs)
	}()
	defer func() { stop(); <-done }()

	j := &joiner{r: r}
	last := map[int]kafka.Message{} // by partition, not yet committed
	commit := func() {
		if len(last) > 0 {
			batch := make([]kafka.Message, 0, len(last))
			for _, m := range last {
				batch = append(batch, m)
			}
			r.commit(ctx, rd, batch...)
			clear(last)
		}
	}
	tick := time.NewTicker(joinEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			commit()
			return
		case <-tick.C:
			j.join(ctx, time.Now())
			commit()
		case m := <-msgs:
			rec, err := r.decode(ctx, m.Value)
			if ctx.Err() != nil {
				continue
			}
			last[m.Partition] = m
			if err != nil {
				r.metrics.label(labelInvalid, 1)
				r.log.Debug("dropping an unreadable label", "partition", m.Partition, "offset", m.Offset, "err", err)
				continue
			}
			l, err := quality.ParseLabel(rec)
			if err != nil {
				r.metrics.label(labelInvalid, 1)
				r.log.Debug("dropping a label", "partition", m.Partition, "offset", m.Offset, "err", err)
				continue
			}
			j.offer(l, time.Now())
			if j.fresh >= joinBatch {
				j.join(ctx, time.Now())
			}
		}
	}
}
