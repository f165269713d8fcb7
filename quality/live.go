package quality

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/registry"
)

// live is the live promotion policy: it compares each canary or shadow
// version with production on labelled events, promotes a challenger that
// is better with the stated confidence, announces one that is worse or
// that max_events leave undecided, and rolls production back when its
// live quality falls below the previous production version's. Only the
// service's loop uses it.
type live struct {
	s      *Service
	models map[string]*liveModel
}

// liveModel is the policy's state for one model.
type liveModel struct {
	production string
	// from is the version production replaced by a promotion ("" when it
	// came by a rollback, or first), whose final live quality it must keep
	// up with.
	from     string
	track    samples // production's recent labelled events (at most 2·min_events)
	seen     int     // production's labelled events since it took over
	next     int     // seen at which the rollback check runs again
	judged   bool    // the rollback check is over for this production version
	contests map[string]*contest
}

// contest is one challenger's comparison with production.
type contest struct {
	version string
	stage   registry.Stage
	// chal and prod are the labelled outputs: for a shadow, of the same
	// events row by row; for a canary, of the events each version served
	// since the contest began.
	chal, prod samples
	next       int
	done       bool
}

func newLive(s *Service) *live { return &live{s: s, models: map[string]*liveModel{}} }

// model returns the policy's state of mi, following its stages.
func (l *live) model(ctx context.Context, mi *modelInfo) *liveModel {
	lm := l.models[mi.name]
	if lm == nil {
		lm = &liveModel{contests: map[string]*contest{}}
		l.models[mi.name] = lm
	}
	st := mi.state
	if st == nil {
		return lm
	}
	if st.Production != lm.production {
		l.handOver(ctx, mi.name, lm, st)
	}
	for v, c := range lm.contests {
		if (c.stage == registry.StageCanary && v != st.Canary) || (c.stage == registry.StageShadow && v != st.Shadow) {
			delete(lm.contests, v)
		}
	}
	for v, stage := range map[string]registry.Stage{st.Canary: registry.StageCanary, st.Shadow: registry.StageShadow} {
		if v != "" && lm.contests[v] == nil {
			lm.contests[v] = &contest{version: v, stage: stage, next: l.s.cfg.Live.MinEvents}
		}
	}
	return lm
}

// handOver records the outgoing production version's final live quality
// and starts following the new one.
func (l *live) handOver(ctx context.Context, model string, lm *liveModel, st *registry.State) {
	cfg := l.s.cfg.Live
	if lm.production != "" && lm.track.len() >= cfg.MinEvents {
		f := finalQuality{Stat: statOf(&lm.track)(nil), Labelled: lm.track.len(), Classifier: lm.track.classifier()}
		if err := storeFinal(ctx, l.s, model, lm.production, f); err != nil {
			l.s.log.Warn("storing a version's final live quality", "model", model, "version", lm.production, "err", err)
		}
	}
	h := st.History
	from := ""
	if n := len(h); n >= 2 && h[n-1] == st.Production && h[n-2] == lm.production {
		from = lm.production // promoted over the version we followed
	} else if n >= 2 && h[n-1] == st.Production && lm.production == "" {
		from = h[n-2] // first sight: trust the history
	}
	*lm = liveModel{production: st.Production, from: from, next: cfg.MinEvents, contests: map[string]*contest{}}
}

// sync follows the registry for every model the policy has seen.
func (l *live) sync(ctx context.Context, now time.Time) {
	if !l.s.cfg.Live.Enabled {
		return
	}
	for name := range l.models {
		if mi := l.s.models.get(ctx, name, now); mi != nil {
			l.model(ctx, mi)
		}
	}
}

// main takes a labelled prediction from the main topic.
func (l *live) main(ctx context.Context, sc *scored) {
	if !l.s.cfg.Live.Enabled {
		return
	}
	mi := l.s.models.known[sc.key.model]
	if mi == nil {
		return
	}
	lm := l.model(ctx, mi)
	switch {
	case sc.key.version == lm.production:
		if !sc.addTo(&lm.track) {
			return
		}
		lm.seen++
		if n := lm.track.len(); n > 2*l.s.cfg.Live.MinEvents {
			lm.track = lm.track.tail(l.s.cfg.Live.MinEvents)
		}
		for _, c := range lm.contests {
			if c.stage == registry.StageCanary && !c.done {
				sc.addTo(&c.prod)
			}
		}
		l.checkRollback(ctx, sc.key.model, lm)
	case sc.key.stage == string(registry.StageCanary):
		if c := lm.contests[sc.key.version]; c != nil && c.stage == registry.StageCanary && !c.done && sc.addTo(&c.chal) {
			l.judge(ctx, sc.key.model, lm, c)
		}
	}
}

// pair takes one event scored by production and by the shadow, labelled.
func (l *live) pair(ctx context.Context, prod, shadow *scored) {
	if !l.s.cfg.Live.Enabled {
		return
	}
	mi := l.s.models.known[prod.key.model]
	if mi == nil {
		return
	}
	lm := l.model(ctx, mi)
	c := lm.contests[shadow.key.version]
	if c == nil || c.stage != registry.StageShadow || c.done || prod.key.version != lm.production {
		return
	}
	if c.chal.width != 0 && c.chal.width != len(shadow.p.out) || c.prod.width != 0 && c.prod.width != len(prod.p.out) {
		return
	}
	shadow.addTo(&c.chal)
	prod.addTo(&c.prod)
	l.judge(ctx, prod.key.model, lm, c)
}

// judge compares a challenger with production once it has enough events,
// and decides: promote, keep production (the challenger is worse), or,
// at max_events, call it inconclusive; otherwise it waits for half of
// min_events more.
func (l *live) judge(ctx context.Context, model string, lm *liveModel, c *contest) {
	cfg := l.s.cfg.Live
	n := c.chal.len()
	if c.stage == registry.StageCanary {
		n = min(n, c.prod.len())
	}
	if n < c.next {
		return
	}
	c.next = n + cfg.MinEvents/2
	seed := hashOf(model + "\x00" + c.version)
	var cmp Comparison
	if c.stage == registry.StageShadow {
		cmp = comparePaired(&c.chal, &c.prod, cfg.Confidence, cfg.Resamples, seed)
	} else {
		cmp = compareUnpaired(&c.chal, &c.prod, cfg.Confidence, cfg.Resamples, seed)
	}
	ev := l.evidence(c, cmp)
	name, sign := metricOf(&c.chal)
	what := fmt.Sprintf("%s %s %.4f vs production %s %.4f on %s; %s difference %+.4f, %g%% bounds [%+.4f, %+.4f]",
		c.stage, name, sign*ev["challenger_"+name], lm.production, ev["production_"+name], eventsOf(c),
		name, sign*cmp.Diff, 100*cmp.Confidence, sign*boundLo(cmp, sign), sign*boundHi(cmp, sign))
	switch {
	case cmp.Lower > 0:
		c.done = true
		why := "policy live: promoted on live evidence: " + what
		if _, err := l.s.deps.Registry.Promote(ctx, model, c.version, registry.StageProduction, registry.PromoteOptions{Reason: why, Evidence: ev}); err != nil {
			l.s.log.Error("promoting a challenger", "model", model, "version", c.version, "err", err)
			c.done = false
			return
		}
		l.s.met.decision(model, decisionPromoted)
		l.s.log.Info("challenger promoted on live evidence", "model", model, "version", c.version, "evidence", what)
	case cmp.Upper < 0:
		c.done = true
		l.notify(ctx, model, c, decisionKept, "policy live: production kept, the challenger is worse on live evidence: "+what, ev)
	case n >= cfg.MaxEvents:
		c.done = true
		l.notify(ctx, model, c, decisionInconclusive, fmt.Sprintf("policy live: no difference at %g%% confidence within max_events %d: %s", 100*cmp.Confidence, cfg.MaxEvents, what), ev)
	}
}

// notify announces a decision that leaves the stages as they are.
func (l *live) notify(ctx context.Context, model string, c *contest, decision, why string, ev map[string]float64) {
	l.s.met.decision(model, decision)
	l.s.log.Info("live evaluation", "model", model, "version", c.version, "decision", decision, "why", why)
	if _, err := l.s.deps.Registry.Notify(ctx, registry.Event{Type: registry.EventEvaluated, Model: model, Version: c.version,
		Stage: c.stage, Reason: why, Evidence: ev}); err != nil {
		l.s.log.Warn("announcing a live evaluation", "model", model, "version", c.version, "err", err)
	}
}

// checkRollback rolls production back when, over at least min_events of
// its labelled events, its live quality fell more than margin below the
// final live quality of the version it replaced.
func (l *live) checkRollback(ctx context.Context, model string, lm *liveModel) {
	cfg := l.s.cfg.Live
	if lm.judged || lm.from == "" || lm.track.len() < cfg.MinEvents || lm.seen < lm.next {
		return
	}
	lm.next = lm.seen + cfg.MinEvents/2
	prev, ok, err := loadFinal(ctx, l.s, model, lm.from)
	if err != nil {
		l.s.log.Warn("reading a version's final live quality", "model", model, "version", lm.from, "err", err)
		return
	}
	if !ok || prev.Classifier != lm.track.classifier() {
		lm.judged = true // nothing to compare with
		return
	}
	cur := statOf(&lm.track)(nil)
	name, sign := metricOf(&lm.track)
	margin := l.s.cfg.rollbackMargin()
	if math.IsNaN(cur) || cur >= prev.Stat-margin {
		if lm.seen >= cfg.MaxEvents {
			lm.judged = true
		}
		return
	}
	lm.judged = true
	ev := map[string]float64{"production_" + name: sign * cur, "previous_" + name: sign * prev.Stat, "margin": margin,
		"labelled": float64(lm.track.len()), "previous_labelled": float64(prev.Labelled)}
	why := fmt.Sprintf("policy live: rolled back: live %s %.4f of version %s over %d labelled events is more than %g below the %.4f version %s had",
		name, sign*cur, lm.production, lm.track.len(), margin, sign*prev.Stat, lm.from)
	if _, err := l.s.deps.Registry.RollbackWith(ctx, model, registry.PromoteOptions{Reason: why, Evidence: ev}); err != nil {
		l.s.log.Error("rolling back", "model", model, "from", lm.production, "err", err)
		return
	}
	l.s.met.decision(model, decisionRolledBack)
	l.s.log.Info("production rolled back on live evidence", "model", model, "from", lm.production, "to", lm.from, "why", why)
}

// evidence is the numbers a contest's decision rests on, for its event.
func (l *live) evidence(c *contest, cmp Comparison) map[string]float64 {
	name, sign := metricOf(&c.chal)
	paired := 0.0
	if cmp.Paired {
		paired = 1
	}
	return map[string]float64{
		"challenger_" + name: sign * statOf(&c.chal)(nil), "production_" + name: sign * statOf(&c.prod)(nil),
		name + "_diff": sign * cmp.Diff, name + "_diff_lower": sign * boundLo(cmp, sign), name + "_diff_upper": sign * boundHi(cmp, sign),
		"confidence": cmp.Confidence, "resamples": float64(cmp.Resamples), "paired": paired,
		"labelled_challenger": float64(c.chal.len()), "labelled_production": float64(c.prod.len()),
	}
}

// metricOf names the compared metric and the sign that turns the
// statistic (higher is better) into it: AUC as is, RMSE negated.
func metricOf(s *samples) (string, float64) {
	if s.classifier() {
		return "auc", 1
	}
	return "rmse", -1
}

// boundLo and boundHi are the bounds in the metric's own direction.
func boundLo(c Comparison, sign float64) float64 {
	if sign < 0 {
		return c.Upper
	}
	return c.Lower
}

func boundHi(c Comparison, sign float64) float64 {
	if sign < 0 {
		return c.Lower
	}
	return c.Upper
}

func eventsOf(c *contest) string {
	if c.stage == registry.StageShadow {
		return fmt.Sprintf("the same %d labelled events", c.chal.len())
	}
	return fmt.Sprintf("%d and %d labelled events", c.chal.len(), c.prod.len())
}

func hashOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// rollbackMargin is the margin of the rollback check: Margin, or the
// default when the quality trigger is off.
func (c Config) rollbackMargin() float64 {
	if c.Margin < 0 {
		return DefaultMargin
	}
	return c.Margin
}

// finalQuality is a version's live quality over its last labelled events
// in production: the statistic (AUC, or minus RMSE).
type finalQuality struct {
	Stat       float64 `json:"stat"`
	Labelled   int     `json:"labelled"`
	Classifier bool    `json:"classifier"`
}

func finalKey(model string) string {
	return "sluice:quality:{" + strings.NewReplacer("{", "_", "}", "_").Replace(model) + "}:final"
}

func storeFinal(ctx context.Context, s *Service, model, version string, f finalQuality) error {
	if math.IsNaN(f.Stat) {
		return nil
	}
	b, _ := json.Marshal(f)
	return s.deps.Redis.HSet(ctx, finalKey(model), version, b).Err()
}

func loadFinal(ctx context.Context, s *Service, model, version string) (finalQuality, bool, error) {
	var f finalQuality
	b, err := s.deps.Redis.HGet(ctx, finalKey(model), version).Bytes()
	if errors.Is(err, redis.Nil) {
		return f, false, nil
	}
	if err != nil {
		return f, false, err
	}
	if json.Unmarshal(b, &f) != nil {
		return f, false, nil
	}
	return f, true, nil
}
