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
