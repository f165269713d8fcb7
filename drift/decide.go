package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// verdict is r as the retrain decision keeps it.
func verdict(r *Report) Verdict {
	v := Verdict{ID: r.WindowID, Seq: r.Seq, Start: r.Start.UnixMilli(), End: r.End.UnixMilli(), Events: r.Events, Flagged: r.Drifted}
	for _, f := range r.Features {
		if f.Drifted {
			v.Features = append(v.Features, f)
		}
	}
	if r.Prediction != nil && r.Prediction.Drifted {
		v.Prediction = r.Prediction
	}
	return v
}

// decide records a complete window in the history and, when it drifted and
// RetrainK of the last RetrainM windows did, requests a retrain unless the
// version is cooling down or the model reached its hourly cap.
func (m *Monitor) decide(ctx context.Context, r *Report) error {
	windows, due, err := m.decision.Record(ctx, verdict(r))
	if err != nil || !due {
		return err
	}
	req := m.retrainRequest(r, windows)
	adm, err := m.gate.Admit(ctx, m.model, m.version, req.EventID)
	if err != nil {
		return err
	}
	if adm != Admitted {
		m.met.suppressed(m.model, adm)
		m.log.Info("drift: retrain due but not requested", "why", adm.String(), "window", r.WindowID)
		return nil
	}
	if err := m.sink.Emit(ctx, m.cfg.RetrainTopic, m.model, retrainNative(req), RetrainRequestedSchema); err != nil {
		return fmt.Errorf("emitting retrain request: %w", err)
	}
	m.met.retrain(m.model)
	m.log.Info("drift: retrain requested", "event_id", req.EventID, "reason", req.Reason, "onset", req.Onset)
	return nil
}

// retrainRequest builds the request from the last RetrainM windows, oldest
// first, r being the newest.
func (m *Monitor) retrainRequest(r *Report, windows []Verdict) *RetrainRequest {
	sum := sha256.Sum256([]byte(m.model + "\x00" + m.version + "\x00" + r.WindowID))
	req := &RetrainRequest{
		EventID: hex.EncodeToString(sum[:16]), Model: m.model, Version: m.version, Kind: KindDrift,
		Onset: Onset(windows), RequestedAt: m.now().UTC(),
	}
	req.Windows, req.WindowIDs = Spans(windows)
	seen := map[string]bool{}
	for i := len(windows) - 1; i >= 0; i-- { // newest statistics first
		h := windows[i]
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
	sort.Slice(req.Features, func(i, j int) bool { return req.Features[i].Feature < req.Features[j].Feature })
	names := make([]string, 0, len(req.Features)+1)
	for _, f := range req.Features {
		names = append(names, f.Feature)
	}
	if req.Prediction != nil {
		names = append(names, "predictions")
	}
	req.Reason = fmt.Sprintf("%d of the last %d windows drifted (%s)", len(req.WindowIDs), m.cfg.RetrainM, joinNames(names))
	return req
}
