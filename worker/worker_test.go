package worker_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/worker"
)

// TestMain fails the package's tests when a goroutine outlives them: the
// reader's, the tracker's and the writer's end when Run returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// New registers the Prediction schema under the output topic's subject,
// and registers the series only the Kafka side knows.
func TestNewWiresTheKafkaSide(t *testing.T) {
	k := testkit.StartKafka(t)
	reg := testworker.StartRegistry(t, testkit.StartRedis(t).Client())
	metrics := prometheus.NewRegistry()
	w, err := worker.New(t.Context(), worker.Config{Pipeline: pipeline.Config{OutputTopic: "scores"}},
		worker.Clients{Brokers: []string{k.Addr}, Registry: reg.Client},
		worker.Parts{Models: pipeline.NewStaticModel(nil), Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	v, err := reg.Client.Version(t.Context(), "scores-value", "latest")
	if err != nil {
		t.Fatalf("no prediction schema under scores-value: %v", err)
	}
	want, err := reg.Client.Register(t.Context(), "scores-value", schemas.PredictionSchema())
	if err != nil || v.ID != want {
		t.Fatalf("scores-value holds schema %d, the Prediction schema is %d (%v)", v.ID, want, err)
	}
	mfs, err := metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]bool{}
	lag := false
	for _, mf := range mfs {
		switch mf.GetName() {
		case "sluice_topic_missing":
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					missing[l.GetValue()] = true
				}
			}
		case "sluice_consumer_lag_events":
			lag = true
		}
	}
	if len(missing) != 3 || !missing["features"] || !missing["scores"] || !missing["features.dlq"] || !lag {
		t.Errorf("sluice_topic_missing for %v, sluice_consumer_lag_events %v: want features, scores and features.dlq, and the lag", missing, lag)
	}
	names := map[string]bool{}
	for _, c := range w.NotReady() {
		names[c.Name] = true
	}
	if !names[pipeline.CondNotRunning] || !names[pipeline.CondNotJoined] || !names[pipeline.CondModelNotLoaded] {
		t.Errorf("before Run: NotReady %v, want not_running, not_joined (the group's) and model_not_loaded", w.NotReady())
	}
	if h := w.Health(); h.Joined || w.Lag() != 0 {
		t.Errorf("before Run: health %+v, lag %d", h, w.Lag())
	}
}

// A registry that cannot be reached is a SchemaError naming the subject.
func TestNewSchemaError(t *testing.T) {
	closed := "http://127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	_, err := worker.New(t.Context(), worker.Config{}, worker.Clients{Brokers: []string{"127.0.0.1:1"},
		Registry: testworker.NewRegistryClient(t, closed)}, worker.Parts{Models: pipeline.NewStaticModel(nil), Metrics: prometheus.NewRegistry()})
	var se *worker.SchemaError
	if !errors.As(err, &se) || se.Subject != "predictions-value" || !errors.Is(err, schemas.ErrRegistryUnavailable) {
		t.Fatalf("New = %v, want a SchemaError for predictions-value matching ErrRegistryUnavailable", err)
	}
}

// A worker built by New scores what comes in, joins its group and, once
// Run returns, has left it and closed its clients (goleak).
func TestRunScoresAndLeaves(t *testing.T) {
	e := testworker.New(t, 2)
	w := e.StartWorker(pipeline.Config{Group: "worker-test"}, testworker.Options{})
	w.WaitReady(t)
	e.Publish(100, 3)
	if got := e.Read(testworker.Predictions, 100, 60*time.Second, 200*time.Millisecond); len(got) != 100 {
		t.Fatalf("%d predictions for 100 events", len(got))
	}
	if h := w.W.Health(); !h.Joined || len(h.Partitions) != 2 {
		t.Errorf("health %+v, want joined with both partitions", h)
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if w.W.Ready() {
		t.Error("ready after Run returned")
	}
}
