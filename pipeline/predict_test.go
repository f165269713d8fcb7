package pipeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/pipeline"
)

// A synchronous caller gets exactly what the Kafka path publishes for the
// same features.
func TestPredictMatchesTheKafkaPath(t *testing.T) {
	e := newEnv(t, 2)
	w := e.startWorker(pipeline.Config{Group: "predict"})
	waitReady(t, w)
	recs := e.Publish(300, 21)
	preds := e.Read("predictions", len(recs), 60*time.Second, 200*time.Millisecond)
	byID := map[string][]float32{}
	for _, p := range preds {
		byID[p.Rec["event_id"].(string)] = p.Rec["scores"].([]float32)
	}
	outs, err := w.w.Predict(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(recs) {
		t.Fatalf("%d outputs for %d records", len(outs), len(recs))
	}
	for i, rec := range recs {
		want := byID[rec["event_id"].(string)]
		if len(want) != len(outs[i].Scores) {
			t.Fatalf("record %d: %d scores, Kafka path has %d", i, len(outs[i].Scores), len(want))
		}
		for j := range want {
			if outs[i].Scores[j] != want[j] {
				t.Fatalf("record %d score %d: Predict %v, Kafka path %v", i, j, outs[i].Scores[j], want[j])
			}
		}
		if outs[i].Model != "fraud" || outs[i].Version != "1" || outs[i].Class == "" {
			t.Fatalf("record %d: %+v", i, outs[i])
		}
	}

	bad := map[string]any{"event_id": "x"}
	_, err = w.w.Predict(t.Context(), []map[string]any{recs[0], bad})
	var re *pipeline.RecordError
	if !errors.As(err, &re) || re.Index != 1 {
		t.Fatalf("a record missing its features gave %v, want a RecordError for index 1", err)
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.w.Predict(t.Context(), recs[:1]); !errors.Is(err, pipeline.ErrNotServing) {
		t.Fatalf("Predict after shutdown: %v, want ErrNotServing", err)
	}
}
