package retrain

import (
	"context"
	"fmt"

	"github.com/sluice-ml/sluice/registry"
)

// promotes reports whether policy p promotes a candidate with holdout
// evaluation cand over production's base on the same holdout, and why. A
// NaN AUC never promotes.
func (p Policy) promotes(cand, base evaluation) (bool, string) {
	if p != PolicyAuto {
		return false, "policy manual"
	}
	if cand.AUC >= base.AUC {
		return true, fmt.Sprintf("policy auto: holdout AUC %.4f >= production's %.4f", cand.AUC, base.AUC)
	}
	return false, fmt.Sprintf("policy auto: holdout AUC %.4f < production's %.4f", cand.AUC, base.AUC)
}

// applyPolicy promotes out.Version to production when the policy says so
// and production is still the version it was compared with; it sets
// out.Result and out.Reason.
func (r *Retrainer) applyPolicy(ctx context.Context, out *Outcome, cand, base evaluation) {
	model, version := out.Request.Model, out.Version
	promote, why := r.cfg.Policy.promotes(cand, base)
	out.Result, out.Reason = ResultCandidate, why
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
	if _, err := r.reg.Promote(ctx, model, version, registry.StageProduction, registry.PromoteOptions{Reason: why}); err != nil {
		out.Reason = fmt.Sprintf("%s, but promoting failed: %v", why, err)
		r.log.Error("promoting the new version", "model", model, "version", version, "err", err)
		return
	}
	out.Result = ResultPromoted
	r.log.Info("new version promoted to production", "model", model, "version", version, "previous", out.Production, "why", why)
}
