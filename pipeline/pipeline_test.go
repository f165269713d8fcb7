package pipeline_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
	"github.com/sluice-ml/sluice/worker"
)

func TestEveryEventPredictedOnceInKeyOrder(t *testing.T) {
	e := newEnv(t, 6)
	everyEventOnceInKeyOrder(t, e, e.startWorker(pipeline.Config{Batch: batch(64, 2*time.Millisecond)}))
}

// With four sessions the worker scores four batches at once; small batches
// put many in flight together, and the predictions must still leave in the
// order their batches were made.
func TestSessionsScoreBatchesAtOnceInKeyOrder(t *testing.T) {
	e := newEnv(t, 6)
	m, err := inference.LoadModel("fraud", "1", e.ONNX, e.Sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := e.startWorkerWith(pipeline.Config{Batch: batch(8, time.Millisecond)}, pipeline.NewStaticModel(m), m.Close)
	everyEventOnceInKeyOrder(t, e, w)
}

// everyEventOnceInKeyOrder publishes 3,000 events on 40 keys to w and
// checks that each is predicted once, with the Go forward pass's scores, in
// per-key order, and that w stops cleanly having counted them.
func everyEventOnceInKeyOrder(t *testing.T, e *env, w *running) {
	t.Helper()
	const n = 3000
	recs := e.Publish(n, 7, demo.WithCards(40))
	preds := e.Read("predictions", n, 60*time.Second, 500*time.Millisecond)
	if len(preds) != n {
		t.Fatalf("got %d predictions for %d events", len(preds), n)
	}

	// Expected outputs: the pure-Go forward pass of the same weights.
	rows, err := training.Rows(e.Sig, recs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{}
	order := map[string][]string{} // entity -> event ids in publish order
	for i, r := range recs {
		id := r["event_id"].(string)
		want[id] = e.MLP.Forward(rows[i])
		ent := r["entity_id"].(string)
		order[ent] = append(order[ent], id)
	}

	seen := map[string]bool{}
	gotOrder := map[string][]string{}
	for _, p := range preds {
		id := p.Rec["event_id"].(string)
		if seen[id] {
			t.Fatalf("event %s predicted twice", id)
		}
		seen[id] = true
		w, ok := want[id]
		if !ok {
			t.Fatalf("prediction for unknown event %s", id)
		}
		scores := p.Rec["scores"].([]float32)
		if len(scores) != len(w) {
			t.Fatalf("event %s: %d scores, want %d", id, len(scores), len(w))
		}
		for j := range w {
			if d := math.Abs(float64(scores[j] - w[j])); d > 1e-5 {
				t.Fatalf("event %s score %d = %v, Go forward pass %v", id, j, scores[j], w[j])
			}
		}
		if string(p.Msg.Key) != p.Rec["entity_id"].(string) {
			t.Fatalf("prediction keyed %q, entity %q", p.Msg.Key, p.Rec["entity_id"])
		}
		if p.Rec["model_name"] != "fraud" || p.Rec["model_version"] != "1" {
			t.Fatalf("prediction names model %v/%v", p.Rec["model_name"], p.Rec["model_version"])
		}
		ent := p.Rec["entity_id"].(string)
		gotOrder[ent] = append(gotOrder[ent], id)
	}
	for ent, ids := range order {
		got := gotOrder[ent]
		if len(got) != len(ids) {
			t.Fatalf("entity %s: %d predictions, want %d", ent, len(got), len(ids))
		}
		for i := range ids {
			if got[i] != ids[i] {
				t.Fatalf("entity %s: prediction %d is for event %s, want %s (per-key order broken)", ent, i, got[i], ids[i])
			}
		}
	}
	if err := w.stop(); err != nil {
		t.Fatalf("worker stopped with %v", err)
	}
	if got := testutil.ToFloat64(counter(t, w.reg, "sluice_predictions_produced_total")); got != n {
		t.Errorf("sluice_predictions_produced_total = %v, want %d", got, n)
	}
}

func TestTwoWorkersShareTheLoad(t *testing.T) {
	e := newEnv(t, 4)
	const n = 4000
	cfg := pipeline.Config{Group: "shared"}
	a, b := e.startWorker(cfg), e.startWorker(cfg)
	waitReady(t, a, b)
	recs := e.Publish(n, 11)
	preds := e.Read("predictions", n, 60*time.Second, time.Second)
	seen := map[string]int{}
	for _, p := range preds {
		seen[p.Rec["event_id"].(string)]++
	}
	for _, r := range recs {
		if c := seen[r["event_id"].(string)]; c != 1 {
			t.Fatalf("event %s predicted %d times", r["event_id"], c)
		}
	}
	if len(preds) != n {
		t.Fatalf("%d predictions for %d events", len(preds), n)
	}
	_, _ = a.stop(), b.stop()
	na := testutil.ToFloat64(counter(t, a.reg, "sluice_predictions_produced_total"))
	nb := testutil.ToFloat64(counter(t, b.reg, "sluice_predictions_produced_total"))
	if na == 0 || nb == 0 || na+nb != n {
		t.Fatalf("workers produced %v and %v predictions; want both > 0 and %d in all", na, nb, n)
	}
}

func TestBadInputIsDeadLetteredAndGoodInputPredicted(t *testing.T) {
	e := newEnv(t, 3)
	ctx := t.Context()
	w := e.startWorker(pipeline.Config{Group: "dlq-test", MaxRecordBytes: 4096})

	gen := demo.NewGenerator(3)
	good := func() kafka.Message {
		rec := gen.Next()
		v, err := e.Input.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		return kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v, Headers: []kafka.Header{{Key: "id", Value: []byte(rec["event_id"].(string))}}}
	}
	// A schema lacking a feature the signature needs, and one with a NaN.
	partial := `{"type":"record","name":"CardTransaction","namespace":"sluice.demo","fields":[
		{"name":"event_id","type":"string"},{"name":"entity_id","type":"string"}]}`
	partialEnc, err := schemas.NewEncoder(ctx, e.Client, "features-partial-value", partial)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := partialEnc.Append(nil, map[string]any{"event_id": "m1", "entity_id": "card-x"})
	if err != nil {
		t.Fatal(err)
	}
	nanRec := gen.Next()
	nanRec["amount"] = math.NaN()
	nan, err := e.Input.Append(nil, nanRec)
	if err != nil {
		t.Fatal(err)
	}
	ok := good().Value
	huge := gen.Next()
	huge["entity_id"] = string(bytes.Repeat([]byte("x"), 5000))
	hugeV, err := e.Input.Append(nil, huge)
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		class string
		value []byte
	}{
		{"empty", []byte{}},
		{"short_frame", []byte{0, 0, 1}},
		{"bad_magic", append([]byte{7}, ok[1:]...)},
		{"unknown_schema", schemas.AppendFrame(nil, 999999, ok[5:])},
		{"decode", ok[:len(ok)/2]},
		{"missing_field", missing},
		{"non_finite", nan},
		{"too_large", hugeV},
	}
	var msgs []kafka.Message
	var goodIDs []string
	for i, b := range bad {
		g := good()
		goodIDs = append(goodIDs, string(g.Headers[0].Value))
		msgs = append(msgs, g, kafka.Message{Key: []byte{byte('a' + i)}, Value: b.value,
			Headers: []kafka.Header{{Key: "case", Value: []byte(b.class)}}})
	}
	e.PublishRaw(msgs...)

	byCase := e.deadLettersByCase(len(bad))
	for _, b := range bad {
		t.Run(b.class, func(t *testing.T) {
			d, found := byCase[b.class]
			if !found {
				t.Fatalf("no dead letter for the %s case", b.class)
			}
			info, err := consumers.ParseDeadLetter(d)
			if err != nil {
				t.Fatal(err)
			}
			if string(info.Class) != b.class {
				t.Errorf("class = %q (%s), want %q", info.Class, info.Message, b.class)
			}
			if info.SourceTopic != "features" || info.ConsumerGroup != "dlq-test" || info.Message == "" {
				t.Errorf("headers = %+v", info)
			}
			if !bytes.Equal(d.Value, b.value) {
				t.Errorf("dead letter value differs from the original bytes")
			}
		})
	}
	preds := e.Read("predictions", len(goodIDs), 30*time.Second, 300*time.Millisecond)
	got := map[string]bool{}
	for _, p := range preds {
		got[p.Rec["event_id"].(string)] = true
	}
	for _, id := range goodIDs {
		if !got[id] {
			t.Errorf("good event %s around the bad ones was not predicted", id)
		}
	}
	_ = w.stop()
	for _, b := range bad {
		if v := testutil.ToFloat64(deadLetters(t, w.reg, b.class)); v != 1 {
			t.Errorf("sluice_dead_letters_total{reason=%q} = %v, want 1", b.class, v)
		}
	}
}

func batch(size int, delay time.Duration) (c inferenceBatch) {
	c.MaxBatchSize, c.MaxDelay = size, delay
	return c
}

func waitReady(t *testing.T, ws ...*running) {
	t.Helper()
	all := make([]*worker.Worker, len(ws))
	for i, w := range ws {
		all[i] = w.w
	}
	testworker.WaitAllReady(t, all...)
}

// counter finds an unlabelled series on reg by name.
func counter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return gathered{reg: reg, name: name}
}

func deadLetters(t *testing.T, reg *prometheus.Registry, reason string) prometheus.Collector {
	t.Helper()
	return gathered{reg: reg, name: "sluice_dead_letters_total", label: [2]string{"reason", reason}}
}
