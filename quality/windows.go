package quality

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/registry"
)

// windowKey names one series of quality windows.
type windowKey struct {
	model, version, stage string
}

// window is the open quality window of one version in one stage.
type window struct {
	opened     time.Time
	start, end time.Time // event times of its labelled events
	s          samples
}

// scored is one labelled prediction of one version in one stage.
type scored struct {
	key   windowKey
	p     *prediction
	class int     // the true class (classifiers)
	value float64 // the true value (score models)
}

func (sc *scored) addTo(s *samples) bool {
	if s.width == 0 {
		s.width = len(sc.p.out)
	}
	if s.width != len(sc.p.out) {
		return false
	}
	if s.classifier() {
		s.addClass(sc.p.out, sc.class)
	} else {
		s.addValue(sc.p.out[0], sc.value)
	}
	return true
}

// joined measures an event's predictions against its label l: the main
// topic's in its stage (production or canary), the shadow's as shadow,
// and both together for the live policy.
func (s *Service) joined(ctx context.Context, e *entry, l Label, now time.Time) {
	var main, shadow *scored
	ok := false
	if e.main != nil {
		if main = s.score(ctx, e.main, "", l, now); main != nil {
			ok = true
		}
	}
	if e.shadow != nil {
		if shadow = s.score(ctx, e.shadow, string(registry.StageShadow), l, now); shadow != nil {
			ok = true
		}
	}
	if !ok {
		return
	}
	s.met.label(labelJoined)
	if main != nil {
		s.live.main(ctx, main)
	}
	if main != nil && shadow != nil && main.key.model == shadow.key.model && main.key.stage == string(registry.StageProduction) {
		s.live.pair(ctx, main, shadow)
	}
}

// score adds one labelled prediction to its window; stage "" is the main
// topic's (canary or production). It returns nil when the label does not
// fit the prediction or the model is not registered.
func (s *Service) score(ctx context.Context, p *prediction, stage string, l Label, now time.Time) *scored {
	mi := s.models.get(ctx, p.model, now)
	if mi == nil {
		s.met.label(labelUnknownModel)
		return nil
	}
	if stage == "" {
		stage = mi.stage(p.version)
	}
	sc := &scored{key: windowKey{p.model, p.version, stage}, p: p}
	if len(p.classes) > 0 {
		c, err := l.ClassIndex(p.classes)
		if err != nil {
			s.met.label(labelInvalid)
			return nil
		}
		sc.class = c
	} else {
		if !l.HasValue {
			s.met.label(labelInvalid)
			return nil
		}
		sc.value = l.Value
	}
	for _, v := range mi.track(p.version, s.cfg.MaxVersions) {
		s.forget(ctx, mi, v)
	}
	w := s.windows[sc.key]
	if w == nil {
		w = &window{opened: now, start: p.at, end: p.at}
		s.windows[sc.key] = w
	}
	if !sc.addTo(&w.s) {
		s.met.label(labelInvalid)
		return nil
	}
	if p.at.Before(w.start) {
		w.start = p.at
	}
	if p.at.After(w.end) {
		w.end = p.at
	}
	s.met.joined(p.model, p.version, stage)
	if w.s.len() >= s.cfg.WindowEvents {
		s.close(ctx, sc.key, w)
	}
	return sc
}

// forget drops a version beyond max_versions from the metrics, the open
// windows and the status entries.
func (s *Service) forget(ctx context.Context, mi *modelInfo, version string) {
	s.met.forget(mi.name, version)
	for k := range s.windows {
		if k.model == mi.name && k.version == version {
			delete(s.windows, k)
		}
	}
	if err := forgetStatus(ctx, s.deps.Redis, mi.name, version); err != nil {
		s.log.Warn("dropping a version's quality status", "model", mi.name, "version", version, "err", err)
	}
}

// close measures and reports window w, and for production feeds the
// quality retrain decision.
func (s *Service) close(ctx context.Context, k windowKey, w *window) {
	delete(s.windows, k)
	s.seq[k]++
	s.reports++
	now := s.now()
	r := &Report{
		ID: fmt.Sprintf("%s-%d", s.epoch, s.reports), Model: k.model, Version: k.version, Stage: k.stage,
		Seq: s.seq[k], Start: w.start.UTC(), End: w.end.UTC(), Quality: measure(&w.s),
		HoldoutAUC: math.NaN(), HoldoutRMSE: math.NaN(), Margin: s.cfg.Margin, CreatedAt: now.UTC(),
	}
	if mi := s.models.known[k.model]; mi != nil {
		r.HoldoutAUC, r.HoldoutRMSE = s.models.holdout(ctx, mi, k.version)
	}
	if k.stage == string(registry.StageProduction) {
		r.Degraded = degraded(r.Quality, r.HoldoutAUC, r.HoldoutRMSE, s.cfg.Margin, s.z)
	}
	s.met.window(r)
	if err := s.deps.Sink.Emit(ctx, s.cfg.ReportsTopic, k.model, r.Native(), QualityReportSchema); err != nil {
		s.log.Warn("emitting a quality report", "model", k.model, "version", k.version, "err", err)
	}
	if err := storeStatus(ctx, s.deps.Redis, r); err != nil {
		s.log.Warn("storing the latest quality", "model", k.model, "version", k.version, "err", err)
	}
	s.log.Info("quality window", "model", k.model, "version", k.version, "stage", k.stage, "seq", r.Seq,
		"labelled", r.Labelled, "auc", r.AUC, "holdout_auc", r.HoldoutAUC, "degraded", r.Degraded)
	if k.stage == string(registry.StageProduction) && s.cfg.Margin >= 0 {
		if err := s.decide(ctx, r); err != nil {
			s.log.Warn("quality retrain decision", "model", k.model, "version", k.version, "err", err)
		}
	}
}

// decide records a production window in the version's quality series and
// sends a quality RetrainRequested when retrain_k of the last retrain_m
// windows were degraded and the gate admits it.
func (s *Service) decide(ctx context.Context, r *Report) error {
	v := drift.Verdict{ID: r.ID, Seq: r.Seq, Start: r.Start.UnixMilli(), End: r.End.UnixMilli(), Events: int64(r.Labelled), Flagged: r.Degraded}
	windows, due, err := drift.NewDecision(s.deps.Redis, r.Model, r.Version, drift.SeriesQuality, s.cfg.Decision).Record(ctx, v)
	if err != nil || !due {
		return err
	}
	sum := sha256.Sum256([]byte(r.Model + "\x00" + r.Version + "\x00quality\x00" + r.ID))
	req := &drift.RetrainRequest{
		EventID: hex.EncodeToString(sum[:16]), Model: r.Model, Version: r.Version, Kind: drift.KindQuality,
		Onset: drift.Onset(windows), RequestedAt: s.now().UTC(),
	}
	req.Windows, req.WindowIDs = drift.Spans(windows)
	drop := &drift.QualityDrop{Metric: "auc", Live: r.AUC, Reference: r.HoldoutAUC, Margin: r.Margin, Labelled: int64(r.Labelled)}
	if math.IsNaN(r.AUC) {
		drop.Metric, drop.Live, drop.Reference = "rmse", r.RMSE, r.HoldoutRMSE
	}
	req.Quality = drop
	req.Reason = fmt.Sprintf("live %s %.4f against holdout %.4f (margin %g): %d of the last %d quality windows degraded",
		drop.Metric, drop.Live, drop.Reference, drop.Margin, len(req.WindowIDs), s.cfg.Decision.RetrainM)
	adm, err := s.gate.Admit(ctx, r.Model, r.Version, req.EventID)
	if err != nil {
		return err
	}
	if adm != drift.Admitted {
		s.met.request(r.Model, adm.String())
		s.log.Info("quality retrain due but not requested", "model", r.Model, "version", r.Version, "why", adm.String())
		return nil
	}
	s.met.request(r.Model, "sent")
	s.log.Info("quality retrain requested", "model", r.Model, "version", r.Version, "event_id", req.EventID, "reason", req.Reason, "onset", req.Onset)
	s.unsent = append(s.unsent, req)
	return s.send(ctx)
}

// send emits the admitted requests not sent yet; those that fail are kept
// for the next tick (the gate admits a retry of the same event id).
func (s *Service) send(ctx context.Context) error {
	for len(s.unsent) > 0 {
		req := s.unsent[0]
		if err := s.deps.Sink.Emit(ctx, s.cfg.Decision.RetrainTopic, req.Model, req.Native(), drift.RetrainRequestedSchema); err != nil {
			return fmt.Errorf("emitting quality retrain request %s (kept for a retry): %w", req.EventID, err)
		}
		s.unsent = s.unsent[1:]
	}
	return nil
}
