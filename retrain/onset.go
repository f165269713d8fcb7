package retrain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/schemas"
)

// EventTimeField is the input field that says when an event happened; the
// retrainer compares it with a request's onset. An event without it counts
// at its label's time.
const EventTimeField = "event_time"

// TrainFrom returns where the traffic a request is trained on starts:
//   - the end of the first flagged window, when a later window of the
//     request is flagged too: the change may fall anywhere inside the first
//     one, and the events before it would make the new version's reference
//     profile a mixture of old and new traffic, which the next windows
//     would flag again;
//   - else the onset (the start of the first flagged window);
//   - zero for a request without either (from an older sender): the
//     retrain then uses the most recent labelled events.
//
// It is safe for concurrent use.
func TrainFrom(req Request) time.Time {
	first := slices.IndexFunc(req.Windows, func(w drift.WindowSpan) bool { return w.Flagged })
	if first >= 0 && slices.ContainsFunc(req.Windows[first+1:], func(w drift.WindowSpan) bool { return w.Flagged }) {
		return req.Windows[first].End
	}
	if !req.Onset.IsZero() {
		return req.Onset
	}
	if first >= 0 {
		return req.Windows[first].Start
	}
	return time.Time{}
}

// eventTime is when the kept event value happened: its EventTimeField,
// else the label's time. A record that cannot be decoded now (the schema
// registry is down) gets the zero time and is decoded again when used.
func (r *Retrainer) eventTime(ctx context.Context, value []byte, l quality.Label) time.Time {
	rec, _, err := r.dec.Decode(ctx, value)
	if errors.Is(err, schemas.ErrRegistryUnavailable) {
		return time.Time{}
	}
	if t, ok := rec[EventTimeField].(time.Time); ok && err == nil && !t.IsZero() {
		return t
	}
	return l.Time
}

// labelPoll is how often a request waiting for labels counts them again.
const labelPoll = 250 * time.Millisecond

// waitRows returns the buffered labelled records of events since from,
// oldest event first, once there are MinRows of them, or what there is
// when MaxLabelWait has passed (the caller skips the request). A zero
// from takes every buffered record. It returns an error only when ctx
// ends or the schema registry cannot be reached.
func (r *Retrainer) waitRows(ctx context.Context, from time.Time) ([]labelled, error) {
	deadline := time.Now().Add(r.cfg.MaxLabelWait)
	for logged := false; ; {
		recs, err := r.since(ctx, from)
		if err != nil {
			return nil, err
		}
		if len(recs) >= r.cfg.MinRows || from.IsZero() || !time.Now().Before(deadline) {
			return recs, nil
		}
		if !logged {
			r.log.Info("waiting for labelled events since the onset", "from", from, "have", len(recs),
				"min_rows", r.cfg.MinRows, "max_label_wait", r.cfg.MaxLabelWait)
			logged = true
		}
		if !backoff.Sleep(ctx, min(labelPoll, time.Until(deadline))) {
			return nil, ctx.Err()
		}
	}
}

// since returns the buffered records of events at or after from (every
// record when from is zero), oldest event first.
func (r *Retrainer) since(ctx context.Context, from time.Time) ([]labelled, error) {
	recs := r.ring.snapshot()
	out := recs[:0]
	for _, rec := range recs {
		if rec.at.IsZero() {
			if rec.at = r.eventTime(ctx, rec.value, rec.label); rec.at.IsZero() {
				return nil, fmt.Errorf("reading the time of kept events: %w", schemas.ErrRegistryUnavailable)
			}
		}
		if from.IsZero() || !rec.at.Before(from) {
			out = append(out, rec)
		}
	}
	slices.SortStableFunc(out, func(a, b labelled) int { return a.at.Compare(b.at) })
	return out, nil
}
