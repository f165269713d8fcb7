package pipeline_test

import (
	"math"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
)

// A canary at 20% serves 20% ± 3% of keys, every key is served by one
// version only, and every prediction names the version that scored it (the
// two versions predict different classes).
func TestCanaryServesAStickyShareOfKeys(t *testing.T) {
	e := newEnv(t, 4)
	sw := inference.NewSwapper(e.loadVersion("1"))
	if err := sw.SetCanary(t.Context(), e.loadVersion("2"), 20); err != nil {
		t.Fatal(err)
	}
	w := e.startWorkerWith(pipeline.Config{Group: "canary"}, sw, sw.Close)
	waitReady(t, w)
	const n, cards = 12000, 3000
	e.Publish(n, 5, demo.WithCards(cards))
	preds := e.Read("predictions", n, 90*time.Second, 300*time.Millisecond)
	checkScoredBy(t, "canary", preds)
	byKey := map[string]string{}
	for _, p := range preds {
		k, v := string(p.Msg.Key), p.Rec["model_version"].(string)
		if prev, ok := byKey[k]; ok && prev != v {
			t.Fatalf("key %s served by versions %s and %s", k, prev, v)
		}
		byKey[k] = v
	}
	canary := 0
	for _, v := range byKey {
		if v == "2" {
			canary++
		}
	}
	share := float64(canary) / float64(len(byKey)) * 100
	t.Logf("canary served %d of %d keys (%.1f%%)", canary, len(byKey), share)
	if math.Abs(share-20) > 3 {
		t.Fatalf("canary share %.1f%%, want 20%% ± 3%%", share)
	}
}

// A shadow version scores a sample of keys beside production; its outputs
// go to predictions.shadow and production's predictions are unchanged: the
// shadow predicts fraud for every event and production legit, so a shadow
// output that leaked into production would show.
func TestShadowScoresASampleBesideProduction(t *testing.T) {
	e := newEnv(t, 2)
	sw := inference.NewSwapper(e.loadVersion("1"))
	if err := sw.SetShadow(t.Context(), e.loadVersion("3"), 0.5); err != nil {
		t.Fatal(err)
	}
	w := e.startWorkerWith(pipeline.Config{Group: "shadow"}, sw, sw.Close)
	waitReady(t, w)
	const n = 3000
	e.Publish(n, 9, demo.WithCards(1000))
	preds := e.Read("predictions", n, 60*time.Second, 300*time.Millisecond)
	if len(preds) != n {
		t.Fatalf("%d production predictions for %d events", len(preds), n)
	}
	for _, p := range preds {
		if v := p.Rec["model_version"]; v != "1" {
			t.Fatalf("a production prediction names version %v", v)
		}
	}
	checkScoredBy(t, "production", preds)
	shadow := e.Read("predictions.shadow", 1, 30*time.Second, 500*time.Millisecond)
	for _, p := range shadow {
		if v := p.Rec["model_version"]; v != "3" {
			t.Fatalf("a shadow prediction names version %v", v)
		}
	}
	checkScoredBy(t, "shadow", shadow)
	frac := float64(len(shadow)) / n
	t.Logf("shadow scored %d of %d events (%.2f)", len(shadow), n, frac)
	if frac < 0.35 || frac > 0.65 {
		t.Fatalf("shadow scored %.2f of events, want about 0.5", frac)
	}
	yes := seriesValue(t, w, "sluice_shadow_predictions_total", "agree", "yes")
	no := seriesValue(t, w, "sluice_shadow_predictions_total", "agree", "no")
	if yes != 0 || no != float64(len(shadow)) {
		t.Errorf("agreement counters: yes %v, no %v; want 0 and %d (the versions disagree on every event)", yes, no, len(shadow))
	}
}
