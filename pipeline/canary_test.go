package pipeline_test

import (
	"math"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
)

// A canary at 20% serves 20% ± 3% of keys, and every key is served by one
// version only.
func TestCanaryServesAStickyShareOfKeys(t *testing.T) {
	e := newEnv(t, 4)
	sw := inference.NewSwapper(e.loadModel("1"))
	if err := sw.SetCanary(t.Context(), e.loadModel("2"), 20); err != nil {
		t.Fatal(err)
	}
	w := e.startWorkerWith(pipeline.Config{Group: "canary"}, sw, sw.Close)
	waitReady(t, w)
	const n, cards = 12000, 3000
	e.publish(n, 5, demo.WithCards(cards))
	preds := e.read("predictions", n, 90*time.Second, 300*time.Millisecond)
	byKey := map[string]string{}
	for _, p := range preds {
		k, v := string(p.msg.Key), p.rec["model_version"].(string)
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
// go to predictions.shadow and production's predictions are unchanged.
func TestShadowScoresASampleBesideProduction(t *testing.T) {
	e := newEnv(t, 2)
	sw := inference.NewSwapper(e.loadModel("1"))
	if err := sw.SetShadow(t.Context(), e.loadModel("3"), 0.5); err != nil {
		t.Fatal(err)
	}
	w := e.startWorkerWith(pipeline.Config{Group: "shadow"}, sw, sw.Close)
	waitReady(t, w)
	const n = 3000
	e.publish(n, 9, demo.WithCards(1000))
	preds := e.read("predictions", n, 60*time.Second, 300*time.Millisecond)
	for _, p := range preds {
		if v := p.rec["model_version"]; v != "1" {
			t.Fatalf("a production prediction names version %v", v)
		}
	}
	shadow := e.read("predictions.shadow", 1, 30*time.Second, 500*time.Millisecond)
	for _, p := range shadow {
		if v := p.rec["model_version"]; v != "3" {
			t.Fatalf("a shadow prediction names version %v", v)
		}
	}
	frac := float64(len(shadow)) / n
	t.Logf("shadow scored %d of %d events (%.2f)", len(shadow), n, frac)
	if frac < 0.35 || frac > 0.65 {
		t.Fatalf("shadow scored %.2f of events, want about 0.5", frac)
	}
	if got := testutilValue(t, w, "sluice_shadow_predictions_total", "agree", "yes"); got != float64(len(shadow)) {
		t.Errorf("agreement counter = %v, want %d (same weights agree on every event)", got, len(shadow))
	}
}
