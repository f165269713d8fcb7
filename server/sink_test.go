package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// Registry changes reach the model-events topic as ModelEvents, keyed by
// model name, in the order they happened.
func TestModelEventsPublishRegistryChanges(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 1)
	e.Kafka.CreateTopic(t, registry.ModelEventsTopic, 1)
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{e.Kafka.Addr}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := t.TempDir()
	if err := training.WriteModelDir(dir, e.MLP, e.Sig); err != nil {
		t.Fatal(err)
	}
	sigYAML, err := os.ReadFile(filepath.Join(dir, "signature.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	models := registry.New(e.Redis, registry.Config{}, registry.WithEmitter(NewModelEvents(e.Client, w)))
	ctx := t.Context()
	for range 2 {
		if _, err := models.Register(ctx, "fraud", registry.RegisterRequest{ONNX: e.ONNX, Signature: sigYAML}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := models.Promote(ctx, "fraud", "1", registry.StageProduction, registry.PromoteOptions{Reason: "first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := models.Promote(ctx, "fraud", "2", registry.StageCanary, registry.PromoteOptions{Percent: 20}); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ, version, stage string
		percent             float64
	}{
		{"registered", "1", "candidate", 0},
		{"registered", "2", "candidate", 0},
		{"promoted", "1", "production", 0},
		{"promoted", "2", "canary", 20},
	}
	recs := e.Read(registry.ModelEventsTopic, len(want), 30*time.Second, 300*time.Millisecond)
	if len(recs) != len(want) {
		t.Fatalf("%d model events, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		w := want[i]
		got := r.Rec
		if string(r.Msg.Key) != "fraud" || got["model_name"] != "fraud" || got["type"] != w.typ ||
			got["model_version"] != w.version || got["stage"] != w.stage {
			t.Fatalf("event %d: key %q %v, want %+v", i, r.Msg.Key, got, w)
		}
		if p, _ := got["traffic_percent"].(float64); p != w.percent {
			t.Fatalf("event %d: traffic_percent %v, want %v", i, got["traffic_percent"], w.percent)
		}
	}
}
