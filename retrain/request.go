package retrain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/drift"
)

// Request is a RetrainRequested event (drift.RetrainRequestedSchema) as the
// retrainer reads it. It is a plain value.
type Request struct {
	// EventID is the idempotency key: a request with an id already handled
	// trains nothing.
	EventID string
	Model   string
	// Version is the version whose traffic drifted; the new version is
	// compared with whatever is production when the retrain runs.
	Version   string
	Reason    string
	WindowIDs []string
	// Kind is drift.KindDrift or drift.KindQuality (a request from a sender
	// that predates the field is drift).
	Kind string
	// Onset is the start of the episode's first flagged window; zero from
	// a sender that predates it.
	Onset time.Time
	// Windows are the windows the sender's decision looked at, oldest
	// first (empty from a sender that predates them).
	Windows []drift.WindowSpan
	// Quality is what a quality request measured.
	Quality     *drift.QualityDrop
	RequestedAt time.Time
}

// ParseRequest reads a decoded RetrainRequested record. It needs event_id
// and model_name; the other fields are optional. It is safe for concurrent
// use.
func ParseRequest(rec map[string]any) (Request, error) {
	var q Request
	q.EventID, _ = rec["event_id"].(string)
	q.Model, _ = rec["model_name"].(string)
	if q.EventID == "" || q.Model == "" {
		return q, errors.New("retrain: retrain request without event_id or model_name")
	}
	q.Version, _ = rec["model_version"].(string)
	q.Reason, _ = rec["reason"].(string)
	q.RequestedAt, _ = rec["requested_at"].(time.Time)
	if ids, ok := rec["window_ids"].([]any); ok {
		for _, id := range ids {
			if s, ok := id.(string); ok {
				q.WindowIDs = append(q.WindowIDs, s)
			}
		}
	}
	q.Kind, _ = rec["kind"].(string)
	if q.Kind == "" {
		q.Kind = drift.KindDrift
	}
	q.Onset, _ = rec["onset"].(time.Time)
	if ws, ok := rec["windows"].([]any); ok {
		for _, w := range ws {
			m, _ := w.(map[string]any)
			var s drift.WindowSpan
			s.ID, _ = m["window_id"].(string)
			s.Start, _ = m["start"].(time.Time)
			s.End, _ = m["end"].(time.Time)
			s.Events, _ = m["events"].(int64)
			s.Flagged, _ = m["flagged"].(bool)
			q.Windows = append(q.Windows, s)
		}
	}
	if m, ok := rec["quality"].(map[string]any); ok {
		d := &drift.QualityDrop{}
		d.Metric, _ = m["metric"].(string)
		d.Live, _ = m["live"].(float64)
		d.Reference, _ = m["reference"].(float64)
		d.Margin, _ = m["margin"].(float64)
		d.Labelled, _ = m["labelled"].(int64)
		q.Quality = d
	}
	return q, nil
}

// Outcome is what one retrain request led to. It is plain data.
type Outcome struct {
	Request Request
	// Result is one of ResultPromoted, ResultCandidate, ResultChallenger,
	// ResultSkipped and ResultDuplicate.
	Result string
	// Reason says why, in words.
	Reason string
	// Version is the version registered by this request (or, for a
	// duplicate, by the request's first handling); "" when none.
	Version string
	// Production is the production version the new one was compared with.
	Production string
	// Metrics are the new version's registered metrics.
	Metrics map[string]float64
	// From is where the traffic trained on starts (see TrainFrom); zero
	// for a request without an onset, which trains on the most recent
	// labelled events.
	From time.Time
	// Labelled is the number of labelled events scored since From that
	// the retrain found (or, skipped, had when it gave up).
	Labelled int
	Duration time.Duration

	known bool // the model is registered: its name may be a metric label
}

// Redis keys of the retrainer's idempotency state.
func doneKey(eventID string) string { return "sluice:retrain:done:" + eventID }
func lockKey(eventID string) string { return "sluice:retrain:lock:" + eventID }

// lockTTL bounds how long a crashed retrainer blocks a request.
const lockTTL = 30 * time.Minute

// unlock deletes a lock only if it still holds this retrainer's token.
var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Retrain handles one request: unless its event id was handled before (or
// another retrainer holds it), it trains a new version on the buffered
// labelled records, evaluates it and the production version on the same
// holdout, registers it as a candidate with its metrics and reference
// profile, and applies the promotion policy. A request that cannot train
// (too few labels, no production version) is an Outcome with
// ResultSkipped, not an error; an error means Redis, the registry or ONNX
// Runtime failed and the request may be tried again. Runs count in
// sluice_retrain_runs_total except failures, which the caller counts once
// it gives up. It is safe for concurrent use.
func (r *Retrainer) Retrain(ctx context.Context, req Request) (*Outcome, error) {
	start := time.Now()
	out := &Outcome{Request: req}
	token := newToken()
	ok, err := r.rdb.SetNX(ctx, lockKey(req.EventID), token, lockTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("locking retrain request %s: %w", req.EventID, err)
	}
	if !ok {
		out.Result, out.Reason = ResultDuplicate, "another retrainer is handling this request"
		r.count(ctx, out)
		return out, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := unlock.Run(uctx, r.rdb, []string{lockKey(req.EventID)}, token).Err(); err != nil {
			r.log.Warn("releasing retrain lock", "event_id", req.EventID, "err", err)
		}
	}()
	done, err := r.rdb.Get(ctx, doneKey(req.EventID)).Result()
	switch {
	case err == nil:
		out.Result, out.Version = ResultDuplicate, done
		out.Reason = "request handled before: it registered version " + done
		r.count(ctx, out)
		return out, nil
	case !errors.Is(err, redis.Nil):
		return nil, fmt.Errorf("reading retrain request %s: %w", req.EventID, err)
	}
	if err := r.run(ctx, req, out); err != nil {
		return nil, err
	}
	if out.Result == ResultSkipped && out.known {
		r.notifySkipped(ctx, out)
	}
	out.Duration = time.Since(start)
	r.count(ctx, out)
	return out, nil
}

// markDone remembers that the request registered version.
func (r *Retrainer) markDone(ctx context.Context, req Request, version string) {
	if err := r.rdb.SetNX(ctx, doneKey(req.EventID), version, r.cfg.DoneTTL).Err(); err != nil {
		r.log.Error("marking retrain request done; a redelivery would train again", "event_id", req.EventID, "err", err)
	}
}

func (r *Retrainer) count(ctx context.Context, out *Outcome) {
	model := "unknown"
	if out.known {
		model = out.Request.Model
	} else if out.Result == ResultDuplicate {
		model = r.modelLabel(ctx, out.Request.Model)
	}
	secs := 0.0
	if out.Result == ResultPromoted || out.Result == ResultCandidate || out.Result == ResultChallenger {
		secs = out.Duration.Seconds()
	}
	r.metrics.run(model, out.Result, secs)
}

// skip makes out a skipped outcome with a reason.
func skip(out *Outcome, format string, a ...any) error {
	out.Result, out.Reason = ResultSkipped, fmt.Sprintf(format, a...)
	return nil
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
