package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Series names a window series that a retrain decision is taken on.
type Series string

// The series of a model version.
const (
	// SeriesDrift is the drift windows' (the Monitor's).
	SeriesDrift Series = "history"
	// SeriesQuality is the live-quality windows' (package quality's).
	SeriesQuality Series = "quality-history"
)

// Verdict is one evaluated window as a retrain decision keeps it: whether it
// was flagged (drifted, or degraded), its bounds and, for drift windows, what
// drifted. It is plain data.
type Verdict struct {
	ID  string `json:"id"`
	Seq int64  `json:"seq"`
	// Start and End are unix milliseconds (see WindowSpan).
	Start   int64 `json:"start"`
	End     int64 `json:"end"`
	Events  int64 `json:"events"`
	Flagged bool  `json:"drifted"`
	// Features and Prediction are the drifted tests of a drift window.
	Features   []FeatureResult `json:"features,omitempty"`
	Prediction *FeatureResult  `json:"prediction,omitempty"`
}

// Span returns v as a WindowSpan.
func (v Verdict) Span() WindowSpan {
	return WindowSpan{ID: v.ID, Start: time.UnixMilli(v.Start).UTC(), End: time.UnixMilli(v.End).UTC(), Events: v.Events, Flagged: v.Flagged}
}

// Decision is the k-of-m rule over one series of windows of one model
// version: a retrain is due when K of the last M recorded windows were
// flagged and the newest one is. The history lives in Redis, so every
// worker (or process) recording into the same series shares it; Record is
// atomic. It is safe for concurrent use.
type Decision struct {
	rdb     redis.UniversalClient
	key     string
	k, m    int
	timeout time.Duration
}

// NewDecision returns the decision over series of model version, with the
// hysteresis of cfg (RetrainK of RetrainM; RedisTimeout bounds each call).
func NewDecision(rdb redis.UniversalClient, model, version string, series Series, cfg Config) *Decision {
	cfg = cfg.WithDefaults()
	return &Decision{rdb: rdb, key: newKeys(model, version).prefix + string(series), k: cfg.RetrainK, m: cfg.RetrainM, timeout: cfg.RedisTimeout}
}

// Record adds v to the history. When v is flagged and at least K of the last
// M windows belong to its episode, it returns due with those M windows,
// oldest first, each Flagged only if it belongs to the episode; otherwise
// windows is nil. A flagged window belongs to v's episode when it drifted
// in a feature v drifted in, or both in the prediction scores (windows
// without feature results, such as quality windows, always do): a window
// flagged by chance for an unrelated feature neither counts towards the
// request nor moves its onset.
func (d *Decision) Record(ctx context.Context, v Verdict) (windows []Verdict, due bool, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("encoding window %s: %w", v.ID, err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var last *redis.StringSliceCmd
	_, err = d.rdb.TxPipelined(rctx, func(p redis.Pipeliner) error {
		p.ZAdd(rctx, d.key, redis.Z{Score: float64(v.Seq), Member: string(b)})
		p.ZRemRangeByRank(rctx, d.key, 0, int64(-2*d.m-1))
		p.PExpire(rctx, d.key, stateTTL)
		last = p.ZRevRange(rctx, d.key, 0, int64(d.m-1))
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("recording window %s: %w", v.ID, err)
	}
	if !v.Flagged {
		return nil, false, nil
	}
	flagged := 0
	for _, s := range last.Val() {
		var h Verdict
		if json.Unmarshal([]byte(s), &h) != nil {
			continue
		}
		h.Flagged = h.Flagged && v.shares(h)
		windows = append(windows, h)
		if h.Flagged {
			flagged++
		}
	}
	if flagged < d.k {
		return nil, false, nil
	}
	slices.Reverse(windows)
	return windows, true, nil
}

// shares reports whether w drifted in something v drifted in; true when
// either has no feature results.
func (v Verdict) shares(w Verdict) bool {
	if len(v.Features) == 0 && v.Prediction == nil || len(w.Features) == 0 && w.Prediction == nil {
		return true
	}
	if v.Prediction != nil && w.Prediction != nil {
		return true
	}
	for _, f := range v.Features {
		for _, g := range w.Features {
			if f.Feature == g.Feature {
				return true
			}
		}
	}
	return false
}

// Onset returns the start of the first flagged window of windows (oldest
// first): where the episode began, as precisely as the windows tell.
func Onset(windows []Verdict) time.Time {
	for _, w := range windows {
		if w.Flagged {
			return time.UnixMilli(w.Start).UTC()
		}
	}
	return time.Time{}
}

// ResetDecision forgets the recorded windows of every series of model
// version, so that a version taking production starts its k-of-m count
// afresh (the registry calls it on promotion and rollback). Its cooldown
// is kept: it belongs to the version.
func ResetDecision(ctx context.Context, rdb redis.UniversalClient, model, version string) error {
	k := newKeys(model, version)
	if err := rdb.Del(ctx, k.prefix+string(SeriesDrift), k.prefix+string(SeriesQuality)).Err(); err != nil {
		return fmt.Errorf("resetting the retrain decision of %s version %s: %w", model, version, err)
	}
	return nil
}

// Spans returns windows (oldest first) as WindowSpans, and the ids of the
// flagged ones: the Windows and WindowIDs of a RetrainRequest.
func Spans(windows []Verdict) ([]WindowSpan, []string) {
	out := make([]WindowSpan, len(windows))
	var ids []string
	for i, w := range windows {
		out[i] = w.Span()
		if w.Flagged {
			ids = append(ids, w.ID)
		}
	}
	return out, ids
}

// joinNames is names joined for a reason text.
func joinNames(names []string) string { return strings.Join(names, ", ") }
