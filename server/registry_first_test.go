package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testmodels"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

const irisSchema = `{"type": "record", "name": "Iris", "namespace": "garden", "fields": [
  {"name": "event_id", "type": "string"},
  {"name": "sepal_length", "type": "float"}, {"name": "sepal_width", "type": "float"},
  {"name": "petal_length", "type": "float"}, {"name": "petal_width", "type": "float"}]}`

// A worker with no model.dir serves its model's production version from
// the registry. With none, it stops at once saying both ways to give it
// one. Started before its input topic has a schema, it serves that version
// unchecked; a version promoted then waits (the status page and the
// registry's worker list say so) until the subject is registered, swaps in
// within a second or two of it, and serves the first events; a later
// version that reads a field the schema lacks is refused, the page and
// the list showing the registry's production beside what is served; a
// worker started then stops, saying why.
func TestWorkerServesTheRegistrysProduction(t *testing.T) {
	initRuntime(t)
	k := testkit.StartKafka(t)
	for _, topic := range []string{"iris", "iris-predictions", "iris.dlq", "predictions.shadow", "model-events", "drift-reports", "retrain-requests"} {
		k.CreateTopic(t, topic, 1)
	}
	rdb := testkit.StartRedis(t).Client()
	srv := httptest.NewServer(schemas.NewServer(rdb))
	t.Cleanup(srv.Close)
	client := schemas.NewClient(srv.URL, nil)
	env := testworker.Attach(t, k, client, nil, nil)
	models := registry.New(rdb, registry.Config{}, registry.WithLogger(slog.New(slog.DiscardHandler)))
	onnx, sigYAML := testmodels.Model(t, "sklearn_randomforest")
	register := func(sig []byte, stage registry.Stage) {
		t.Helper()
		if _, err := models.Register(t.Context(), "iris", registry.RegisterRequest{ONNX: onnx, Signature: sig, Stage: stage}); err != nil {
			t.Fatal(err)
		}
	}

	cfg := config.Default()
	cfg.Kafka.Brokers, cfg.Registry.URL = []string{k.Addr}, srv.URL
	cfg.Redis.URL = "redis://" + rdb.Options().Addr + "/0"
	cfg.Model.Name = "iris"
	cfg.Pipeline.InputTopic, cfg.Pipeline.OutputTopic, cfg.Pipeline.Group = "iris", "iris-predictions", "iris"
	cfg.Admin.Addr = "127.0.0.1:0"
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	start := func() (Ready, context.CancelFunc, chan error) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		ready, done := make(chan Ready, 1), make(chan error, 1)
		go func() { done <- Run(ctx, cfg, log, func(r Ready) { ready <- r }) }()
		select {
		case r := <-ready:
			return r, cancel, done
		case err := <-done:
			cancel()
			done <- err
			return Ready{}, cancel, done
		case <-time.After(60 * time.Second):
			t.Fatalf("worker neither ready nor stopped in 60s\n%s", logs)
		}
		return Ready{}, cancel, done
	}
	refusedToStart := func(want ...string) {
		t.Helper()
		_, _, done := start()
		err := <-done
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("err = %v, want it to say %q", err, w)
			}
		}
	}

	refusedToStart("no model to serve: model.dir is empty and the model registry has no model iris",
		"sluice models register iris --onnx model.onnx --signature signature.yaml --stage production", "or set model.dir")
	register(sigYAML, registry.StageCandidate)
	refusedToStart("model iris has no production version in the model registry (latest: version 1; sluice models promote iris 1)")
	if _, err := models.Promote(t.Context(), "iris", "1", registry.StageProduction, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}

	r, stop, done := start()
	if r.Model == nil || r.Model.Version() != "1" {
		t.Fatalf("serving %v, want iris version 1\n%s", r.Model, logs)
	}
	admin := "http://" + r.AdminAddr.String()
	if !strings.Contains(logs.String(), "no input schema yet to check the version against") {
		t.Fatalf("no word of serving unchecked:\n%s", logs)
	}
	register(sigYAML, registry.StageProduction)
	testkit.WaitFor(t, 15*time.Second, "version 2 held back, waiting for the schema, on the status page", func() bool {
		return strings.Contains(get(t, admin+"/api/status"), `"held":[{"model":"iris","version":"2","stage":"production","state":"waiting","reason":"input_schema"}]`)
	})
	if ws := workersOf(t, models); len(ws) != 1 || ws[0].Production != "1" || len(ws[0].Held) != 1 || ws[0].Held[0].State != registry.HeldWaiting {
		t.Fatalf("workers: %+v", ws)
	}

	enc, err := schemas.NewEncoder(t.Context(), client, "iris-value", irisSchema) // the producer registers the subject
	if err != nil {
		t.Fatal(err)
	}
	publish := func(batch string) map[string]map[string]any {
		t.Helper()
		iris := testmodels.Iris
		msgs := make([]kafka.Message, len(iris.Rows))
		for i, row := range iris.Rows {
			v, err := enc.Append(nil, map[string]any{"event_id": batch + strconv.Itoa(i),
				"sepal_length": row[0], "sepal_width": row[1], "petal_length": row[2], "petal_width": row[3]})
			if err != nil {
				t.Fatal(err)
			}
			msgs[i] = kafka.Message{Key: []byte(strconv.Itoa(i)), Value: v}
		}
		env.PublishTo("iris", msgs...)
		got := map[string]map[string]any{}
		for _, p := range readAll(t, env, batch, len(msgs)) {
			got[p["event_id"].(string)] = p
		}
		for i := range msgs {
			p := got[batch+strconv.Itoa(i)]
			if p == nil || classOf(p) != strconv.FormatInt(iris.Labels[i], 10) {
				t.Fatalf("%s%d: prediction %v, want class %d", batch, i, p, iris.Labels[i])
			}
		}
		return got
	}
	publish("first-")
	testkit.WaitFor(t, 15*time.Second, "version 2 served once the subject is registered", func() bool {
		ws := workersOf(t, models)
		return len(ws) == 1 && ws[0].Production == "2" && len(ws[0].Held) == 0
	})
	for id, p := range publish("second-") {
		if p["model_version"] != "2" {
			t.Fatalf("%s scored by version %v after the swap", id, p["model_version"])
		}
	}

	register([]byte(strings.ReplaceAll(string(sigYAML), "petal_width", "petal_wid")), registry.StageProduction)
	testkit.WaitFor(t, 15*time.Second, "version 3 refused on the status page", func() bool {
		return strings.Contains(get(t, admin+"/api/status"), `"held":[{"model":"iris","version":"3","stage":"production","state":"refused","reason":"schema"}]`)
	})
	ws := workersOf(t, models)
	if len(ws) != 1 || ws[0].Production != "2" || len(ws[0].Held) != 1 ||
		!strings.Contains(ws[0].Held[0].Reason, `schema: registry: signature does not match the input schema: column "petal_wid" reads a field record Iris does not have`) {
		t.Fatalf("workers: %+v", ws)
	}
	for id, p := range publish("third-") {
		if p["model_version"] != "2" {
			t.Fatalf("%s scored by version %v, want 2 (3 is refused)", id, p["model_version"])
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("worker: %v\n%s", err, logs)
	}
	if ws := workersOf(t, models); len(ws) != 0 {
		t.Fatalf("a stopped worker is still listed: %+v", ws)
	}
	// Restarted, with the refused version in production, it has nothing to serve.
	refusedToStart("model iris version 3 is production in the model registry, but this worker refused it: schema: ",
		"promote another version (sluice models promote iris VERSION) or set model.dir")
}

func workersOf(t *testing.T, models *registry.Registry) []registry.WorkerState {
	t.Helper()
	ws, err := models.Workers(t.Context(), "iris")
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// readAll reads the predictions topic from the start and returns the n
// predictions whose event ids start with batch.
func readAll(t *testing.T, env *testworker.Env, batch string, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		out = out[:0]
		for _, p := range env.Read("iris-predictions", 1, 30*time.Second, 300*time.Millisecond) {
			if id, _ := p.Rec["event_id"].(string); strings.HasPrefix(id, batch) {
				out = append(out, p.Rec)
			}
		}
	}
	if len(out) < n {
		t.Fatalf("%d predictions of batch %s, want %d", len(out), batch, n)
	}
	return out
}

// classOf is a prediction's predicted_class (a nullable string).
func classOf(p map[string]any) string {
	if u, ok := p["predicted_class"].(map[string]any); ok {
		s, _ := u["string"].(string)
		return s
	}
	s, _ := p["predicted_class"].(string)
	return s
}
