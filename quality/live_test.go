package quality_test

import (
	"math/rand/v2"

	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
)

// stream is labelled demo traffic scored by a good model (the generating
// rule itself) and a weak one (its log-odds damped and blurred).
type stream struct {
	ids         []string
	good, weak  []float64
	fraud       []bool
	at          []time.Time
	nextSeed    int64
	predictions []pred
}

func newStream(seed int64, n int) *stream {
	g := demo.NewGenerator(seed)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	s := &stream{}
	base := time.Now().Add(-time.Hour)
	for i := range n {
		rec, fraud := g.NextLabelled()
		p := demo.FraudProbability(rec)
		s.ids = append(s.ids, rec[demo.FieldEventID].(string))
		s.good = append(s.good, p)
		s.weak = append(s.weak, sigmoid(0.3*logit(p)-2+1.5*r.NormFloat64()))
		s.fraud = append(s.fraud, fraud)
		s.at = append(s.at, base.Add(time.Duration(i)*time.Millisecond))
	}
	return s
}

func (s *stream) labels(from, to int) []quality.Label {
	out := make([]quality.Label, 0, to-from)
	for i := from; i < to; i++ {
		l := quality.Label{EventID: s.ids[i], Time: time.Now()}
		if s.fraud[i] {
			l.Class = 1
		}
		out = append(out, l)
	}
	return out
}

// score returns predictions of events from..to by version, good or weak.
func (s *stream) score(model, version string, good bool, from, to, step int) []pred {
	var out []pred
	for i := from; i < to; i += step {
		p := s.weak[i]
		if good {
			p = s.good[i]
		}
		out = append(out, pred{id: s.ids[i], model: model, version: version, p: p, at: s.at[i]})
	}
	return out
}

// The live policy, each case on its own model in one service: a canary
// better on live labels is promoted, a worse one is left alone with an
// evaluated event; a shadow better on the same events is promoted; and a
// production version whose live quality falls below the previous
// version's is rolled back. Every decision's event carries its evidence.
func TestLivePolicy(t *testing.T) {
	e := newQEnv(t)
	holdout := map[string]float64{"auc": 0.9}
	for _, m := range []string{"canary-better", "canary-worse", "shadow-better", "rollback"} {
		e.register(t, m, holdout, registry.StageProduction, 0)
	}
	e.register(t, "canary-better", holdout, registry.StageCanary, 50)
	e.register(t, "canary-worse", holdout, registry.StageCanary, 50)
	e.register(t, "shadow-better", holdout, registry.StageShadow, 100)
	e.register(t, "rollback", holdout, registry.StageCandidate, 0)
	_, reg := e.service(t, quality.Config{WindowEvents: 500, MinWindowEvents: 100, Margin: -1, Decision: decision(),
		Live: quality.LiveConfig{Enabled: true, MinEvents: 600, MaxEvents: 6000, Resamples: 400}})

	// Each model gets its own events: a label names one event.
	const n = 2000
	streams := map[string]*stream{}
	for i, m := range []string{"canary-better", "canary-worse", "shadow-better", "rollback"} {
		streams[m] = newStream(int64(21+i), 2*n)
	}
	var main, shadow []pred
	main = append(main, streams["canary-better"].score("canary-better", "1", false, 0, n, 2)...) // production, weak
	main = append(main, streams["canary-better"].score("canary-better", "2", true, 1, n, 2)...)  // canary, good
	main = append(main, streams["canary-worse"].score("canary-worse", "1", true, 0, n, 2)...)
	main = append(main, streams["canary-worse"].score("canary-worse", "2", false, 1, n, 2)...)
	main = append(main, streams["shadow-better"].score("shadow-better", "1", false, 0, n, 1)...)
	shadow = append(shadow, streams["shadow-better"].score("shadow-better", "2", true, 0, n, 1)...)
	main = append(main, streams["rollback"].score("rollback", "1", true, 0, n/2, 1)...)
	e.predictions(t, testworker.Predictions, main)
	e.predictions(t, shadowTopic, shadow)
	// Labels go out once the service has read every prediction, so that
	// each shadow pair is complete when its label comes.
	testkit.WaitFor(t, 30*time.Second, "the predictions to be read", func() bool {
		return counter(t, reg, "sluice_quality_predictions_read_total", "source", "main") == float64(len(main)) &&
			counter(t, reg, "sluice_quality_predictions_read_total", "source", "shadow") == float64(len(shadow))
	})
	for _, m := range []string{"canary-better", "canary-worse", "shadow-better"} {
		e.labels(t, streams[m].labels(0, n))
	}
	e.labels(t, streams["rollback"].labels(0, n/2))

	testkit.WaitFor(t, 60*time.Second, "the canary and shadow decisions", func() bool {
		return len(toProduction(e, "canary-better")) == 1 && len(e.events.Find("canary-worse", registry.EventEvaluated)) == 1 &&
			len(toProduction(e, "shadow-better")) == 1
	})
	state := func(model string) *registry.State {
		st, err := e.reg.State(t.Context(), model)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	promoted := toProduction(e, "canary-better")[0]
	t.Logf("canary-better: %s %v", promoted.Reason, promoted.Evidence)
	if promoted.Version != "2" || promoted.Stage != registry.StageProduction || !strings.Contains(promoted.Reason, "promoted on live evidence") ||
		!(promoted.Evidence["auc_diff_lower"] > 0) || promoted.Evidence["paired"] != 0 || promoted.Evidence["labelled_challenger"] < 600 ||
		promoted.Evidence["confidence"] != 0.95 || state("canary-better").Production != "2" {
		t.Errorf("canary-better: %+v", promoted)
	}
	kept := e.events.Find("canary-worse", registry.EventEvaluated)[0]
	t.Logf("canary-worse: %s %v", kept.Reason, kept.Evidence)
	if st := state("canary-worse"); kept.Version != "2" || kept.Stage != registry.StageCanary || !(kept.Evidence["auc_diff_upper"] < 0) ||
		!strings.Contains(kept.Reason, "production kept") || st.Production != "1" || st.Canary != "2" {
		t.Errorf("canary-worse: %+v, state %+v", kept, st)
	}
	if got := toProduction(e, "canary-worse"); len(got) != 0 {
		t.Errorf("canary-worse was promoted: %+v", got)
	}
	sh := toProduction(e, "shadow-better")[0]
	t.Logf("shadow-better: %s %v", sh.Reason, sh.Evidence)
	if sh.Version != "2" || sh.Evidence["paired"] != 1 || !(sh.Evidence["auc_diff_lower"] > 0) || state("shadow-better").Production != "2" {
		t.Errorf("shadow-better: %+v", sh)
	}

	// Rollback: version 1 served well; version 2, promoted by hand, is
	// worse on live labels than version 1 was.
	testkit.WaitFor(t, 30*time.Second, "version 1's labelled events", func() bool {
		return counter(t, reg, "sluice_quality_labelled_total", "model", "rollback", "version", "1") == n/2
	})
	if _, err := e.reg.Promote(t.Context(), "rollback", "2", registry.StageProduction, registry.PromoteOptions{Reason: "by hand"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the service reads the registry every second
	s := streams["rollback"]
	e.predictions(t, testworker.Predictions, s.score("rollback", "2", false, n, 2*n, 1))
	e.labels(t, s.labels(n, 2*n))
	testkit.WaitFor(t, 60*time.Second, "the rollback", func() bool { return len(e.events.Find("rollback", registry.EventRolledBack)) == 1 })
	rb := e.events.Find("rollback", registry.EventRolledBack)[0]
	t.Logf("rollback: %s %v", rb.Reason, rb.Evidence)
	if rb.Version != "1" || rb.Previous != "2" || !(rb.Evidence["production_auc"] < rb.Evidence["previous_auc"]-rb.Evidence["margin"]) ||
		rb.Evidence["labelled"] < 600 || state("rollback").Production != "1" {
		t.Errorf("rollback: %+v", rb)
	}
}

// toProduction returns the promotions of a model's version 2 to production.
func toProduction(e *qEnv, model string) []registry.Event {
	var out []registry.Event
	for _, ev := range e.events.Find(model, registry.EventPromoted) {
		if ev.Version == "2" && ev.Stage == registry.StageProduction {
			out = append(out, ev)
		}
	}
	return out
}

// counter is the value of the series of family name whose labels include
// the given name-value pairs (0 when there is none).
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	v, _ := testkit.Value(reg, name, labels...)
	return v
}
