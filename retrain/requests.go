package retrain

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/internal/backoff"
)

// runRequests handles retrain requests one at a time, committing each once
// it is handled (or given up), until ctx ends.
func (r *Retrainer) runRequests(ctx context.Context, rd *consumers.Reader) {
	for {
		m, err := rd.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, consumers.ErrClosed) {
				return
			}
			r.log.Warn("fetching", "topic", rd.Topic(), "err", err)
			if !backoff.Sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if !r.handle(ctx, m) {
			return // ctx ended mid-request: leave it uncommitted for the next run
		}
		r.commit(ctx, rd, m)
	}
}

// handle decodes and answers one request message. It returns false when
// ctx ended before the request was handled.
func (r *Retrainer) handle(ctx context.Context, m kafka.Message) bool {
	rec, err := r.decode(ctx, m.Value)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		r.log.Error("dropping an unreadable retrain request", "partition", m.Partition, "offset", m.Offset, "err", err)
		r.metrics.run("unknown", ResultFailed, 0)
		return true
	}
	req, err := ParseRequest(rec)
	if err != nil {
		r.log.Error("dropping a retrain request", "partition", m.Partition, "offset", m.Offset, "err", err)
		r.metrics.run("unknown", ResultFailed, 0)
		return true
	}
	r.log.Info("retrain requested", "model", req.Model, "version", req.Version, "event_id", req.EventID, "reason", req.Reason)
	for attempt := 1; ; attempt++ {
		out, err := r.Retrain(ctx, req)
		if err == nil {
			r.log.Info("retrain request handled", "model", req.Model, "event_id", req.EventID, "result", out.Result,
				"version", out.Version, "production", out.Production, "reason", out.Reason, "took", out.Duration.Round(time.Millisecond))
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt >= r.cfg.MaxAttempts {
			r.log.Error("retrain failed; giving the request up", "model", req.Model, "event_id", req.EventID, "attempts", attempt, "err", err)
			r.metrics.run(r.modelLabel(ctx, req.Model), ResultFailed, 0)
			return true
		}
		r.log.Warn("retrain failed; trying again", "model", req.Model, "event_id", req.EventID, "attempt", attempt, "err", err)
		if !backoff.Sleep(ctx, time.Duration(attempt)*2*time.Second) {
			return false
		}
	}
}

// decode decodes a framed record, waiting out a schema registry that
// cannot be reached; other errors are the record's.
func (r *Retrainer) decode(ctx context.Context, framed []byte) (map[string]any, error) {
	return r.dec.DecodeWaiting(ctx, framed, r.log)
}

// modelLabel is the model label of a run: the name of a registered model,
// else "unknown" (label values never come from events unchecked).
func (r *Retrainer) modelLabel(ctx context.Context, model string) string {
	if _, err := r.reg.State(ctx, model); err != nil {
		return "unknown"
	}
	return model
}
