package registry_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// A version taking production, by promotion or rollback, starts its
// retrain decision afresh: drifted windows it saw before do not count.
func TestProductionResetsDecision(t *testing.T) {
	e := newEnv(t, registry.Config{})
	ctx := t.Context()
	e.register(t, "fraud", 1, 0)
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	e.register(t, "fraud", 2, 0)
	e.promote(t, "fraud", "2", registry.StageCanary, 20)
	cfg := drift.Config{RetrainK: 2, RetrainM: 3}
	flag := func(version string, seq int64) bool {
		t.Helper()
		_, due, err := drift.NewDecision(e.rdb, "fraud", version, drift.SeriesDrift, cfg).Record(ctx, drift.Verdict{ID: version + "-" + string(rune('0'+seq)), Seq: seq, Flagged: true})
		if err != nil {
			t.Fatal(err)
		}
		return due
	}
	if flag("2", 1) {
		t.Fatal("due after one window")
	}
	e.promote(t, "fraud", "2", registry.StageProduction, 0) // the canary's window is forgotten
	if flag("2", 2) {
		t.Fatal("a window seen as a canary counted after the promotion")
	}
	if !flag("2", 3) {
		t.Fatal("two drifted windows in production are not due")
	}
	if flag("1", 1) {
		t.Fatal("due after one window")
	}
	if _, err := e.reg.Rollback(ctx, "fraud", "test"); err != nil {
		t.Fatal(err)
	}
	if flag("1", 2) {
		t.Fatal("a window from before the rollback counted")
	}
}

// Notify announces a decision that changes nothing, with its evidence, to
// the emitter and on the channel, and refuses the types that only a change
// announces.
func TestNotify(t *testing.T) {
	e := newEnv(t, registry.Config{})
	ctx := t.Context()
	e.register(t, "fraud", 1, 0)
	sub := e.rdb.Subscribe(ctx, registry.Channel("fraud"))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err := e.reg.Notify(ctx, registry.Event{
		Type: registry.EventSkipped, Model: "fraud", Version: "1", Stage: registry.StageProduction,
		Reason: "insufficient labelled data since onset", Request: "req-1", Evidence: map[string]float64{"labelled_since_onset": 12, "min_rows": 2000},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID == "" || ev.Time.IsZero() {
		t.Fatalf("event %+v has no id or time", ev)
	}
	got := e.events.All()
	last := got[len(got)-1]
	if last.Type != registry.EventSkipped || last.Request != "req-1" || last.Evidence["labelled_since_onset"] != 12 {
		t.Fatalf("emitted %+v", last)
	}
	select {
	case m := <-sub.Channel():
		if !bytes.Contains([]byte(m.Payload), []byte(`"type":"skipped"`)) || !bytes.Contains([]byte(m.Payload), []byte(`"min_rows":2000`)) {
			t.Fatalf("published %s", m.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published")
	}
	if _, err := e.reg.Notify(ctx, registry.Event{Type: registry.EventPromoted, Model: "fraud", Version: "1"}); err == nil {
		t.Fatal("Notify announced a promotion that did not happen")
	}
}

// Promotions and rollbacks carry the request and the evidence they were
// decided on; a registered version's event carries its metrics.
func TestEventsCarryEvidence(t *testing.T) {
	e := newEnv(t, registry.Config{})
	ctx := t.Context()
	e.register(t, "fraud", 1, 0)
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	e.register(t, "fraud", 2, 0)
	if _, err := e.reg.Promote(ctx, "fraud", "2", registry.StageProduction, registry.PromoteOptions{
		Reason: "live AUC better", Request: "r", Evidence: map[string]float64{"auc_diff_lower": 0.03},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.RollbackWith(ctx, "fraud", registry.PromoteOptions{Reason: "live AUC fell", Evidence: map[string]float64{"live_auc": 0.6}}); err != nil {
		t.Fatal(err)
	}
	evs := e.events.All()
	if evs[0].Evidence["auc"] != 0.91 {
		t.Errorf("registered event evidence %v, want the version's metrics", evs[0].Evidence)
	}
	i := slices.IndexFunc(evs, func(ev registry.Event) bool { return ev.Type == registry.EventPromoted && ev.Version == "2" })
	if i < 0 || evs[i].Request != "r" || evs[i].Evidence["auc_diff_lower"] != 0.03 {
		t.Errorf("promotion event %+v", evs[i])
	}
	if last := evs[len(evs)-1]; last.Type != registry.EventRolledBack || last.Evidence["live_auc"] != 0.6 || last.Reason != "live AUC fell" {
		t.Errorf("rollback event %+v", last)
	}
}

// The ModelEvent schema with the new types and fields is accepted by the
// schema registry over the first one at its default (BACKWARD)
// compatibility: consumers on the new schema read every old event.
func TestModelEventCompatible(t *testing.T) {
	old, err := os.ReadFile("testdata/model_event.v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, registry.Config{})
	srv := httptest.NewServer(schemas.NewServer(e.rdb))
	t.Cleanup(srv.Close)
	c := schemas.NewClient(srv.URL, nil)
	if _, err := c.Register(t.Context(), "model-events-value", string(old)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(t.Context(), "model-events-value", registry.ModelEventSchema); err != nil {
		t.Fatalf("the registry refused the new schema: %v", err)
	}
	resp, err := http.Get(srv.URL + "/subjects/model-events-value/versions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
