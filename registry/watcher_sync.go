package registry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// syncStage brings one role of the Swapper to the registry's version for
// it. w.mu is held.
func (w *Watcher) syncStage(ctx context.Context, st *State, stage Stage) error {
	target, share := st.Production, 0.0
	switch stage {
	case StageCanary:
		target, share = st.Canary, st.CanaryPercent
	case StageShadow:
		target, share = st.Shadow, st.ShadowFraction
	}
	if target != w.refused[stage] {
		delete(w.refused, stage) // promoted away: a later promotion tries it again
	}
	if h, ok := w.held[stage]; ok && h.Version != target {
		delete(w.held, stage)
	}
	switch {
	case target == "" && (stage == StageProduction || w.serving[stage] == ""):
		return nil // nothing assigned; production keeps what it serves
	case target == "":
		if err := w.set(ctx, stage, nil, 0); err != nil {
			return err
		}
		w.log.Info("model version retired from "+string(stage), "version", w.serving[stage])
		w.m.served(w.cfg.Model, stage, w.shown[stage], "")
		w.serving[stage], w.shown[stage] = "", ""
		return nil
	case target == w.serving[stage]:
		if cur, curShare := w.current(stage); cur != nil && !sameShare(stage, curShare, share) {
			return w.set(ctx, stage, cur, share)
		}
		return nil
	case target == w.refused[stage]:
		return nil
	}
	start := time.Now()
	v, m, err := w.load(ctx, target, stage)
	if errors.Is(err, ErrNoInputSchema) {
		w.wait(stage, target, err)
		return nil
	}
	if err != nil {
		if reason := refusalReason(err); reason != "" {
			w.refuse(ctx, v, target, stage, reason, err)
			return nil
		}
		return err
	}
	delete(w.held, stage)
	w.m.loaded(w.cfg.Model, time.Since(start).Seconds())
	if err := w.set(ctx, stage, m, share); err != nil {
		if cur, _ := w.current(stage); cur != m {
			_ = m.Close() // not taken: ours to close
			return err
		}
		// Taken, but the old version's drain was cut short; it closes on release.
		w.log.Warn("swapped model version in; the old one closes when released", "version", target, "stage", stage, "err", err)
	}
	w.log.Info("model version swapped in", "version", target, "stage", stage, "previous", w.shown[stage],
		"provider", m.Provider(), "took", time.Since(start).Round(time.Millisecond))
	w.m.swapped(w.cfg.Model, stage, w.shown[stage], target)
	w.serving[stage], w.shown[stage] = target, target
	return nil
}

// set hands m (nil: remove) to the Swapper's role for stage.
func (w *Watcher) set(ctx context.Context, stage Stage, m *inference.Model, share float64) error {
	switch stage {
	case StageCanary:
		return w.sw.SetCanary(ctx, m, share)
	case StageShadow:
		return w.sw.SetShadow(ctx, m, share)
	}
	return w.sw.Swap(ctx, m)
}

// current is the model the Swapper serves for stage, and its share.
func (w *Watcher) current(stage Stage) (*inference.Model, float64) {
	switch stage {
	case StageCanary:
		return w.sw.Canary()
	case StageShadow:
		return w.sw.Shadow()
	}
	return w.sw.Current(), 0
}

// sameShare compares shares at the Swapper's resolution (0.01%).
func sameShare(stage Stage, a, b float64) bool {
	scale := float64(inference.Buckets)
	if stage == StageCanary {
		scale /= 100 // percent
	}
	return math.Round(a*scale) == math.Round(b*scale)
}

// load fetches (size and sha256 checked), checks and loads a version off
// the hot path. The Version is returned when it could be read, also with an
// error.
func (w *Watcher) load(ctx context.Context, version string, stage Stage) (*Version, *inference.Model, error) {
	v, onnx, err := w.reg.Fetch(ctx, w.cfg.Model, version)
	if err != nil {
		return v, nil, err
	}
	sig, err := inference.ParseSignature(v.Signature)
	if err != nil {
		return v, nil, fmt.Errorf("%w: %v", ErrSignatureMismatch, err)
	}
	if err := w.checkSchema(ctx, version, stage, sig); err != nil {
		return v, nil, err
	}
	m, err := inference.LoadModel(w.cfg.Model, version, onnx, sig, w.cfg.Session, w.cfg.InferenceMetrics)
	if err != nil {
		return v, nil, classifyLoad(onnx, err)
	}
	return v, m, nil
}

// checkSchema checks sig against CheckSignature and the input schema as
// it is now (InputSchema).
func (w *Watcher) checkSchema(ctx context.Context, version string, stage Stage, sig *inference.Signature) error {
	mismatch := func(err error) error {
		if !errors.Is(err, ErrSchemaMismatch) {
			err = fmt.Errorf("%w: %v", ErrSchemaMismatch, err)
		}
		return err
	}
	if check := w.cfg.CheckSignature; check != nil {
		if err := check(sig); err != nil {
			return mismatch(err)
		}
	}
	if w.cfg.InputSchema == nil {
		return nil
	}
	schema, err := w.cfg.InputSchema(ctx)
	switch {
	case errors.Is(err, ErrNoInputSchema) && stage == StageProduction && w.sw.Current() == nil:
		w.log.Warn("no input schema yet to check the version against; it serves, and a record without a field it reads is dead-lettered",
			"version", version, "why", err)
		return nil
	case errors.Is(err, ErrNoInputSchema):
		return err
	case err != nil:
		return fmt.Errorf("reading the input schema: %w", err)
	}
	check, err := SchemaCheck(schema)
	if err != nil {
		w.log.Warn("the input schema is not a record; the version is not checked against it", "version", version, "err", err)
		return nil
	}
	if err := check(sig); err != nil {
		return mismatch(err)
	}
	return nil
}

// wait records that version waits for the input schema before it can
// serve stage; it is logged once.
func (w *Watcher) wait(stage Stage, version string, err error) {
	if h := w.held[stage]; h.Version == version && h.State == HeldWaiting {
		return
	}
	w.held[stage] = Held{Stage: stage, Version: version, State: HeldWaiting, Reason: err.Error()}
	w.log.Info("model version waits for the input schema to be checked against; the current version keeps serving",
		"version", version, "stage", stage, "serving", w.shown[stage], "why", err)
}

// refusalReason is the reason label of an error that refuses a version, or
// "" for an error that may pass (Redis unreachable, no runtime).
func refusalReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{ErrTooLarge, "too_large"}, {ErrChecksum, "checksum"}, {ErrMissingBlob, "missing"},
		{ErrUnknownVersion, "missing"}, {ErrCorruptModel, "corrupt"},
		{ErrSignatureMismatch, "signature"}, {ErrSchemaMismatch, "schema"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ""
}

// refuse records that this worker will not serve version for stage: a log
// line, the metric, a refused event and a note on the version in Redis.
// It is not retried until the registry assigns another version.
func (w *Watcher) refuse(ctx context.Context, v *Version, version string, stage Stage, reason string, err error) {
	w.refused[stage] = version
	w.held[stage] = Held{Stage: stage, Version: version, State: HeldRefused, Reason: reason + ": " + err.Error()}
	w.m.refuse(w.cfg.Model, reason)
	w.log.Error("refused model version; the current version keeps serving",
		"version", version, "stage", stage, "reason", reason, "serving", w.shown[stage], "err", err)
	ev := newEvent(EventRefused, w.cfg.Model, version, stage)
	ev.Previous, ev.Reason, ev.Worker = w.shown[stage], reason+": "+err.Error(), w.cfg.Worker
	if v != nil {
		ev.SHA256 = v.SHA256
		note := fmt.Sprintf("%s by %s: %s", ev.Time.Format(time.RFC3339), w.cfg.Worker, ev.Reason)
		if err := w.reg.rdb.HSet(ctx, versionKey(w.cfg.Model, version), fRefused, note).Err(); err != nil {
			w.log.Warn("noting the refusal in the registry", "version", version, "err", err)
		}
	}
	w.reg.emit(ctx, ev)
}
