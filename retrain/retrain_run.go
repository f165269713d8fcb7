package retrain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
)

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
		return skip(out, "only classifiers (output kind probabilities, 2 or more classes) are retrained; version %s outputs %s", st.Production, sig.Output.Kind)
	}

	recs := r.ring.snapshot()
	if len(recs) < r.cfg.MinRows {
		return skip(out, "%d labelled records buffered, min_rows is %d", len(recs), r.cfg.MinRows)
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
	mlp, trep, err := Train(data.X[:nTrain], data.y[:nTrain], tc)
	if err != nil {
		return skip(out, "training: %v", err)
	}
	onnx, err := WriteONNX(mlp, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		return fmt.Errorf("writing the new model: %w", err)
	}
	candOut, err := r.score(ctx, req.Model, "candidate", onnx, sig, data.X)
	if err != nil {
		return err
	}
	prodOut, err := r.score(ctx, req.Model, st.Production, prodONNX, sig, data.X[nTrain:])
	if err != nil {
		return err
	}
	cand := evaluateOutputs(candOut[nTrain*classes:], classes, data.y[nTrain:])
	base := evaluateOutputs(prodOut, classes, data.y[nTrain:])
	profile, err := buildProfile(ctx, r, sig, recs, data.at[:nTrain], candOut, tc.Seed)
	if err != nil {
		return fmt.Errorf("building the reference profile: %w", err)
	}
	out.Metrics = finiteMetrics(map[string]float64{
		"auc": cand.AUC, "log_loss": cand.LogLoss, "accuracy": cand.Accuracy,
		"production_auc": base.AUC, "production_log_loss": base.LogLoss, "production_accuracy": base.Accuracy,
		"train_rows": float64(nTrain), "holdout_rows": float64(nHold),
	})
	r.log.Info("trained a new version", "model", req.Model, "event_id", req.EventID,
		"train_rows", nTrain, "holdout_rows", nHold, "dropped", len(recs)-n, "train_seconds", trep.Duration.Seconds(),
		"auc", cand.AUC, "production_auc", base.AUC, "log_loss", cand.LogLoss, "production_log_loss", base.LogLoss)

	v, err := r.reg.Register(ctx, req.Model, registry.RegisterRequest{
		ONNX: onnx, Signature: prod.Signature, Profile: profile, Metrics: out.Metrics,
		Reason: fmt.Sprintf("retrained for request %s (%s)", req.EventID, req.Reason),
	})
	if err != nil {
		return fmt.Errorf("registering the new version: %w", err)
	}
	out.Version = v.Version
	r.markDone(ctx, req, v.Version)
	r.applyPolicy(ctx, out, cand, base)
	return nil
}

// buildProfile is the reference profile of the training records at (indexes
// into recs) with the new model's scores, out (classes values per row, in
// the order of at), as JSON.
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
