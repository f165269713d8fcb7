package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testmodels"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/schemas"
)

// The README's "Serve your own model" path, as a new user walks it: their
// records published with their Avro schema (`sluice produce --json
// --schema`, registering the topic's subject), `sluice models init`
// drafting the signature of scikit-learn's random forest (skl2onnx's ZipMap
// and label), `sluice models register --stage production`, `sluice topics
// create` for the worker's output and dead-letter topics, `sluice run
// --model-name iris` with no model.dir on their own topics, predictions out
// with the labels and probabilities scikit-learn computed, and `sluice
// models list` naming the worker serving it.
func TestServeYourOwnModelEndToEnd(t *testing.T) {
	k := testkit.StartKafka(t)
	for _, topic := range []string{"iris", "predictions.shadow", "model-events", "drift-reports", "retrain-requests"} {
		k.CreateTopic(t, topic, 1)
	}
	c := newCLI(t, nil)
	dir := t.TempDir()
	flowers := filepath.Join(dir, "flowers.jsonl")
	iris := testmodels.Iris
	var lines []string
	for i, r := range iris.Rows {
		lines = append(lines, fmt.Sprintf(`{"event_id": "flower-%d", "sepal_length": %v, "sepal_width": %v, "petal_length": %v, "petal_width": %v}`,
			i, r[0], r[1], r[2], r[3]))
	}
	avsc := filepath.Join(dir, "iris.avsc")
	for path, text := range map[string]string{flowers: strings.Join(lines, "\n"), avsc: irisSchema} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// sluice produce --topic iris --schema iris.avsc --json flowers.jsonl
	if err := produceJSON(t.Context(), []string{k.Addr}, c.registryURL, "iris", flowers, avsc, "event_id"); err != nil {
		t.Fatal(err)
	}
	client := schemas.NewClient(c.registryURL, nil)
	env := testworker.Attach(t, k, client, nil, nil)

	model := modelFile(t, "sklearn_randomforest")
	sig := filepath.Join(dir, "signature.yaml")
	if err := os.WriteFile(sig, []byte(c.must("init", "iris", "--onnx", model, "--subject", "iris-value")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := c.must("register", "iris", "--onnx", model, "--signature", sig, "--stage", "production"); !strings.HasPrefix(out, "registered iris version 1 (production)") {
		t.Fatalf("register: %s", out)
	}
	var out bytes.Buffer
	if err := runTopics(t.Context(), []string{"create", "iris-predictions", "iris.dlq", "--brokers", k.Addr}, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- cmdRun(ctx, []string{"--brokers", k.Addr, "--redis-url", c.redisURL, "--registry-url", c.registryURL,
			"--model-name", "iris", "--input-topic", "iris", "--output-topic", "iris-predictions", "--group", "iris",
			"--http-addr", "127.0.0.1:0"}, slog.New(slog.DiscardHandler))
	}()
	msgs := iris.Rows
	got := map[string]map[string]any{}
	for _, p := range env.Read("iris-predictions", len(msgs), 90*time.Second, 200*time.Millisecond) {
		got[p.Rec["event_id"].(string)] = p.Rec
	}
	for i := range msgs {
		p := got["flower-"+strconv.Itoa(i)]
		if p == nil {
			t.Fatalf("no prediction for flower-%d: %v", i, got)
		}
		class, _ := p["predicted_class"].(string)
		if u, ok := p["predicted_class"].(map[string]any); ok {
			class, _ = u["string"].(string)
		}
		scores := p["scores"].([]float32)
		same := len(scores) == 3
		for c := 0; same && c < 3; c++ {
			same = nearly(scores[c], iris.Probs[i][c])
		}
		if class != strconv.FormatInt(iris.Labels[i], 10) || p["model_name"] != "iris" || p["model_version"] != "1" || !same {
			t.Errorf("flower-%d: %v/%v class %q scores %v, want class %d with probabilities %v",
				i, p["model_name"], p["model_version"], class, scores, iris.Labels[i], iris.Probs[i])
		}
	}
	list := c.must("list")
	if !strings.Contains(list, "1 on v1") {
		t.Fatalf("models list does not show the worker serving version 1:\n%s", list)
	}
	t.Logf("sluice models list:\n%s", list)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("sluice run: %v", err)
	}
}

func nearly(a, b float32) bool { return a-b < 1e-5 && b-a < 1e-5 }
