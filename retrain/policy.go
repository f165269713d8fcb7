package retrain

import (
	"context"
	"fmt"
	"maps"

	"github.com/sluice-ml/sluice/registry"
)

// promotes reports whether policy p promotes a new version with holdout
// evaluation cand to production over production's base on the same
// holdout, and why. A NaN AUC never promotes; policy live never promotes
// at once (applyPolicy makes the version a challenger).
func (p Policy) promotes(cand, base evaluation) (bool, string) {
	switch p {
	case PolicyAuto:
		if cand.AUC >= base.AUC {
			return true, fmt.Sprintf("policy auto: holdout AUC %.4f >= production's %.4f", cand.AUC, base.AUC)
		}
		return false, fmt.Sprintf("policy auto: holdout AUC %.4f < production's %.4f", cand.AUC, base.AUC)
	case PolicyLive:
		return false, "policy live"
	}
	return false, "policy manual"
}

// applyPolicy promotes out.Version to production when the policy says so
// and production is still the version it was compared with, or, for
// policy live, makes it the shadow or canary that live labels will judge;
// it sets out.Result and out.Reason.
func (r *Retrainer) applyPolicy(ctx context.Context, out *Outcome, cand, base evaluation) {
	model, version := out.Request.Model, out.Version
	promote, why := r.cfg.Policy.promotes(cand, base)
	out.Result, out.Reason = ResultCandidate, why
	if r.cfg.Policy == PolicyLive {
		r.challenge(ctx, out)
		return
	}
	if !promote {
		r.log.Info("new version left a candidate; promote it with: sluice models promote "+model+" "+version,
			"model", model, "version", version, "why", why)
		return
	}
	st, err := r.reg.State(ctx, model)
	if err != nil {
		out.Reason = fmt.Sprintf("%s, but reading the model's state failed: %v", why, err)
		r.log.Error("not promoting the new version", "model", model, "version", version, "err", err)
		return
	}
	if st.Production != out.Production {
		out.Reason = fmt.Sprintf("%s, but production changed from %s to %s during the retrain", why, out.Production, st.Production)
		r.log.Warn("not promoting the new version: "+out.Reason, "model", model, "version", version)
		return
	}
	if _, err := r.reg.Promote(ctx, model, version, registry.StageProduction, registry.PromoteOptions{
		Reason: why, Request: out.Request.EventID, Evidence: evidence(out.Metrics),
	}); err != nil {
		out.Reason = fmt.Sprintf("%s, but promoting failed: %v", why, err)
		r.log.Error("promoting the new version", "model", model, "version", version, "err", err)
		return
	}
	out.Result = ResultPromoted
	r.log.Info("new version promoted to production", "model", model, "version", version, "previous", out.Production, "why", why)
}

// challenge puts the new version beside production at LiveStage.
func (r *Retrainer) challenge(ctx context.Context, out *Outcome) {
	model, version := out.Request.Model, out.Version
	why := fmt.Sprintf("policy live: %s at %g%% until live labels decide", r.cfg.LiveStage, r.cfg.LivePercent)
	if _, err := r.reg.Promote(ctx, model, version, r.cfg.LiveStage, registry.PromoteOptions{
		Percent: r.cfg.LivePercent, Reason: why, Request: out.Request.EventID, Evidence: evidence(out.Metrics),
	}); err != nil {
		out.Reason = fmt.Sprintf("%s, but promoting failed: %v", why, err)
		r.log.Error("making the new version a challenger", "model", model, "version", version, "err", err)
		return
	}
	out.Result, out.Reason = ResultChallenger, why
	r.log.Info("new version is a challenger", "model", model, "version", version, "stage", r.cfg.LiveStage, "percent", r.cfg.LivePercent)
}

// evidence is a copy of m for a model event.
func evidence(m map[string]float64) map[string]float64 { return maps.Clone(m) }

// notifySkipped announces a skipped request as a model event, so that
// whoever watches model-events sees why no version came.
func (r *Retrainer) notifySkipped(ctx context.Context, out *Outcome) {
	req := out.Request
	ev := registry.Event{Type: registry.EventSkipped, Model: req.Model, Version: req.Version, Stage: registry.StageProduction,
		Reason: out.Reason, Request: req.EventID,
		Evidence: map[string]float64{"labelled": float64(out.Labelled), "min_rows": float64(r.cfg.MinRows)},
	}
	if !out.From.IsZero() {
		ev.Evidence["from_unix_ms"] = float64(out.From.UnixMilli())
		ev.Evidence["max_label_wait_seconds"] = r.cfg.MaxLabelWait.Seconds()
	}
	if v, err := r.reg.Version(ctx, req.Model, req.Version); err == nil {
		ev.Stage = v.Stage
	}
	if _, err := r.reg.Notify(ctx, ev); err != nil {
		r.log.Warn("announcing a skipped retrain", "model", req.Model, "event_id", req.EventID, "err", err)
	}
}
