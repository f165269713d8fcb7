package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RetrainRequest is what a RetrainRequested event carries.
type RetrainRequest struct {
	// EventID is derived from the model version and the triggering window,
	// so a retried emission carries the same id: consumers use it as the
	// idempotency key.
	EventID string
	Model   string
	Version string
	Reason  string
	// Features are the input features that drifted in the triggering
	// windows, each with its statistics from the latest window it drifted in.
	Features []FeatureResult
	// Prediction is set when the prediction scores drifted too.
	Prediction  *FeatureResult
	WindowIDs   []string
	RequestedAt time.Time
}

// historyEntry is one evaluated window in the decision history.
type historyEntry struct {
	ID         string          `json:"id"`
	Drifted    bool            `json:"drifted"`
	Features   []FeatureResult `json:"features,omitempty"` // the drifted ones
	Prediction *FeatureResult  `json:"prediction,omitempty"`
}

// decide records a complete window in the history and, when it drifted and
// RetrainK of the last RetrainM windows did, requests a retrain unless the
// model is cooling down.
func (m *Monitor) decide(ctx context.Context, r *Report) error {
	e := historyEntry{ID: r.WindowID, Drifted: r.Drifted}
	for _, f := range r.Features {
		if f.Drifted {
			e.Features = append(e.Features, f)
		}
	}
	if r.Prediction != nil && r.Prediction.Drifted {
		e.Prediction = r.Prediction
	}
	b, _ := json.Marshal(e)
	rctx, cancel := context.WithTimeout(ctx, m.cfg.RedisTimeout)
	defer cancel()
	var last *redis.StringSliceCmd
	_, err := m.rdb.TxPipelined(rctx, func(p redis.Pipeliner) error {
		p.ZAdd(rctx, m.keys.history, redis.Z{Score: float64(r.Seq), Member: string(b)})
		p.ZRemRangeByRank(rctx, m.keys.history, 0, int64(-2*m.cfg.RetrainM-1))
		p.PExpire(rctx, m.keys.history, stateTTL)
		last = p.ZRevRange(rctx, m.keys.history, 0, int64(m.cfg.RetrainM-1))
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording drift history: %w", err)
	}
	if !r.Drifted {
		return nil
	}
	var drifted []historyEntry
	for _, s := range last.Val() {
		var h historyEntry
		if json.Unmarshal([]byte(s), &h) == nil && h.Drifted {
			drifted = append(drifted, h)
		}
	}
	if len(drifted) < m.cfg.RetrainK {
		return nil
	}
	req := m.retrainRequest(r, drifted)
	ok, err := m.rdb.SetNX(rctx, m.keys.cooldown, req.EventID, m.cfg.Cooldown).Result()
	if err != nil {
		return fmt.Errorf("taking retrain cooldown: %w", err)
	}
	if !ok {
		// Someone holds the cooldown: only a retry of our own request goes on.
		if v, err := m.rdb.Get(rctx, m.keys.cooldown).Result(); err != nil || v != req.EventID {
			return nil
		}
	}
	if err := m.sink.Emit(ctx, m.cfg.RetrainTopic, m.model, retrainNative(req), RetrainRequestedSchema); err != nil {
		return fmt.Errorf("emitting retrain request: %w", err)
	}
	m.met.retrain(m.model)
	m.log.Info("drift: retrain requested", "event_id", req.EventID, "reason", req.Reason)
	return nil
}

// retrainRequest builds the request from the drifted windows, newest
// first, r being among them.
func (m *Monitor) retrainRequest(r *Report, drifted []historyEntry) *RetrainRequest {
	sum := sha256.Sum256([]byte(m.model + "\x00" + m.version + "\x00" + r.WindowID))
	req := &RetrainRequest{
		EventID: hex.EncodeToString(sum[:16]), Model: m.model, Version: m.version,
		RequestedAt: m.now().UTC(),
	}
	seen := map[string]bool{}
	for _, h := range drifted {
		req.WindowIDs = append(req.WindowIDs, h.ID)
		for _, f := range h.Features {
			if !seen[f.Feature] {
				seen[f.Feature] = true
				req.Features = append(req.Features, f)
			}
		}
		if req.Prediction == nil && h.Prediction != nil {
			req.Prediction = h.Prediction
		}
	}
	slices.Reverse(req.WindowIDs) // oldest first
	sort.Slice(req.Features, func(i, j int) bool { return req.Features[i].Feature < req.Features[j].Feature })
	names := make([]string, 0, len(req.Features)+1)
	for _, f := range req.Features {
		names = append(names, f.Feature)
	}
	if req.Prediction != nil {
		names = append(names, "predictions")
	}
	req.Reason = fmt.Sprintf("%d of the last %d windows drifted (%s)",
		len(drifted), m.cfg.RetrainM, strings.Join(names, ", "))
	return req
}
