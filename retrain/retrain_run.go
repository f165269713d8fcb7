package retrain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// InsufficientSinceOnset starts the reason of a request skipped because too
// few labelled events were scored since its onset.
const InsufficientSinceOnset = "insufficient labelled data since onset"

// run trains, evaluates and registers a new version for req and applies
// the policy, filling out. It returns an error only for a failure worth
// another attempt.
func (r *Retrainer) run(ctx context.Context, req Request, out *Outcome) error {
	st, err := r.reg.State(ctx, req.Model)
	if errors.Is(err, registry.ErrUnknownModel) {
		return skip(out, "model %s is not registered", req.Model)
	}
	if err != nil {
		return err
	}
	out.known = true
	if st.Production == "" {
		return skip(out, "model %s has no production version to compare a new one with", req.Model)
	}
	out.Production = st.Production
	prod, prodONNX, err := r.reg.Fetch(ctx, req.Model, st.Production)
	if err != nil {
		return fmt.Errorf("fetching the production version: %w", err)
	}
	sig, err := inference.ParseSignature(prod.Signature)
	if err != nil {
		return skip(out, "the signature of production version %s: %v", st.Production, err)
	}
	classes := len(sig.Output.Classes)
	if sig.Output.Kind != inference.OutputProbabilities || classes < 2 {
		return skip(out, "only classifiers (one output of kind probabilities, 2 or more classes) are retrained; version %s outputs %s", st.Production, outputKinds(sig))
	}

	out.From = TrainFrom(req)
	recs, err := r.waitRows(ctx, out.From)
	if err != nil {
		return err
	}
	out.Labelled = len(recs)
	if len(recs) < r.cfg.MinRows {
		if out.From.IsZero() {
			return skip(out, "%d labelled records buffered, min_rows is %d", len(recs), r.cfg.MinRows)
		}
		return skip(out, "%s: %d labelled events scored since %s, min_rows is %d (waited %s)",
			InsufficientSinceOnset, len(recs), out.From.Format("15:04:05.000"), r.cfg.MinRows, r.cfg.MaxLabelWait)
	}
	data, err := buildDataset(ctx, r.dec, sig, recs)
	if err != nil {
		return err
	}
	n := len(data.X)
	if n < r.cfg.MinRows {
		return skip(out, "%d of %d labelled records are usable (%s), min_rows is %d", n, len(recs), data.dropped(), r.cfg.MinRows)
	}
	nHold := int(math.Round(r.cfg.Holdout * float64(n)))
	nTrain := n - nHold
	if c := missingClass(data.y, nTrain, n, classes); c >= 0 {
		return skip(out, "the holdout (the %d most recent records) has no %q record", nHold, sig.Output.Classes[c])
	}
	if c := missingClass(data.y, 0, nTrain, classes); c >= 0 {
		return skip(out, "the training split (%d records) has no %q record", nTrain, sig.Output.Classes[c])
	}

	tc := r.cfg.Train
	tc.Classes = classes
	if tc.Seed == 0 {
		tc.Seed = seedOf(req.EventID)
	}
	mlp, trep, err := training.Train(data.X[:nTrain], data.y[:nTrain], tc)
	if err != nil {
		return skip(out, "training: %v", err)
	}
	candONNX, err := training.WriteONNX(mlp, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		return fmt.Errorf("writing the new model: %w", err)
	}
	candOut, err := r.score(ctx, req.Model, "candidate", candONNX, sig, data.X)
	if err != nil {
		return err
	}
	prodOut, err := r.score(ctx, req.Model, st.Production, prodONNX, sig, data.X)
	if err != nil {
		return err
	}
	cand := evaluateOutputs(candOut[nTrain*classes:], classes, data.y[nTrain:])
	base := evaluateOutputs(prodOut[nTrain*classes:], classes, data.y[nTrain:])
	// The new version keeps whichever weights score better on the holdout
	// of post-onset events; either way its profile is of those events.
	onnx, chosen, chosenOut, retrained := candONNX, cand, candOut, true
	if !(cand.AUC >= base.AUC) {
		onnx, chosen, chosenOut, retrained = prodONNX, base, prodOut, false
	}
	profile, err := buildProfile(ctx, r, sig, recs, data.at, chosenOut, tc.Seed)
	if err != nil {
		return fmt.Errorf("building the reference profile: %w", err)
	}
	out.Metrics = finiteMetrics(map[string]float64{
		"auc": chosen.AUC, "log_loss": chosen.LogLoss, "accuracy": chosen.Accuracy,
		"retrained_auc": cand.AUC, "retrained_log_loss": cand.LogLoss, "retrained_accuracy": cand.Accuracy,
		"production_auc": base.AUC, "production_log_loss": base.LogLoss, "production_accuracy": base.Accuracy,
		"train_rows": float64(nTrain), "holdout_rows": float64(nHold), "profile_rows": float64(n),
		"retrained": b2f(retrained),
	})
	if !out.From.IsZero() {
		out.Metrics["from_unix_ms"] = float64(out.From.UnixMilli())
	}
	r.log.Info("trained a new version", "model", req.Model, "event_id", req.EventID, "from", out.From,
		"train_rows", nTrain, "holdout_rows", nHold, "dropped", len(recs)-n, "train_seconds", trep.Duration.Seconds(),
		"retrained_auc", cand.AUC, "production_auc", base.AUC, "retrained_log_loss", cand.LogLoss,
		"production_log_loss", base.LogLoss, "weights", weightsFrom(retrained))

	v, err := r.reg.Register(ctx, req.Model, registry.RegisterRequest{
		ONNX: onnx, Signature: prod.Signature, Profile: profile, Metrics: out.Metrics, Request: req.EventID,
		Reason: fmt.Sprintf("%s for request %s (%s): %s", registeredAs(req), req.EventID, req.Reason, versionSummary(retrained, cand, base, nHold, n, out.From)),
	})
	if err != nil {
		return fmt.Errorf("registering the new version: %w", err)
	}
	out.Version = v.Version
	r.markDone(ctx, req, v.Version)
	r.applyPolicy(ctx, out, chosen, base)
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func weightsFrom(retrained bool) string {
	if retrained {
		return "retrained"
	}
	return "production's"
}

func registeredAs(req Request) string {
	if req.Kind == drift.KindQuality {
		return "retrained on a fall in live quality"
	}
	return "retrained"
}

// versionSummary says in words what the new version is.
func versionSummary(retrained bool, cand, base evaluation, nHold, n int, from time.Time) string {
	where := fmt.Sprintf("%d most recent labelled events", nHold)
	if !from.IsZero() {
		where = fmt.Sprintf("%d most recent of %d labelled events since the onset", nHold, n)
	}
	if retrained {
		return fmt.Sprintf("retrained weights, holdout AUC %.4f vs production's %.4f on the %s", cand.AUC, base.AUC, where)
	}
	return fmt.Sprintf("production's weights kept (holdout AUC %.4f vs retrained %.4f on the %s) with a reference profile of the new traffic", base.AUC, cand.AUC, where)
}

// buildProfile is the reference profile of the records at (indexes into
// recs) with the new version's outputs out (classes values per row, in the
// order of at), as JSON.
func buildProfile(ctx context.Context, r *Retrainer, sig *inference.Signature, recs []labelled, at []int, out []float32, seed int64) ([]byte, error) {
	ow := sig.OutWidth()
	var decodeErr error
	rows := func(yield func(map[string]any, float32) bool) {
		for i, idx := range at {
			ev, _, err := r.dec.Decode(ctx, recs[idx].value)
			if err != nil {
				decodeErr = err
				return
			}
			if !yield(ev, sig.ReadOutput(out[i*ow:(i+1)*ow]).Score) {
				return
			}
		}
	}
	p, err := drift.BuildProfile(drift.FeaturesFromSignature(sig), rows, drift.ProfileOptions{Seed: uint64(seed)})
	if decodeErr != nil {
		return nil, decodeErr
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// outputKinds says what a signature's outputs are, for a skip message:
// "probabilities (1 class)", or "zipmap, label" for the list form.
func outputKinds(sig *inference.Signature) string {
	specs := sig.Outputs
	if len(specs) == 0 {
		specs = []inference.OutputSpec{sig.Output}
	}
	kinds := make([]string, len(specs))
	for i, o := range specs {
		kinds[i] = string(o.Kind)
		if kinds[i] == "" {
			kinds[i] = "an output of no kind"
		}
		if o.Kind == inference.OutputProbabilities {
			kinds[i] += fmt.Sprintf(" (%d classes)", len(o.Classes))
		}
	}
	return strings.Join(kinds, ", ")
}
