package retrain

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/featurelog"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// rtEnv is a retrainer's world: Kafka, Redis, the schema registry, the
// model registry, and encoders for what the tests publish.
type rtEnv struct {
	kafka    *testkit.Kafka
	rdb      *redis.Client
	reg      *registry.Registry
	schemas  *schemas.Client
	features *featurelog.Log
	featEnc  *schemas.Encoder
	labelEnc *schemas.Encoder
	reqEnc   *schemas.Encoder
	events   *testworker.Events
}

const (
	testFeatures = "features"
	testLabels   = "labels"
	testRequests = "retrain-requests"
)

func newRTEnv(t *testing.T) *rtEnv {
	t.Helper()
	e := &rtEnv{kafka: testkit.StartKafka(t)}
	e.kafka.CreateTopic(t, testLabels, 4)
	e.kafka.CreateTopic(t, testRequests, 4)
	e.rdb = testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = e.rdb.Close() })
	e.schemas = testworker.StartRegistry(t, e.rdb).Client
	e.events = &testworker.Events{}
	e.reg = registry.New(e.rdb, registry.Config{}, registry.WithLogger(slog.New(slog.DiscardHandler)), registry.WithEmitter(e.events))
	e.features = featurelog.New(e.rdb, time.Hour)
	ctx := t.Context()
	var err error
	if e.featEnc, err = schemas.NewEncoder(ctx, e.schemas, schemas.Subject(testFeatures), schemas.TransactionSchema()); err != nil {
		t.Fatal(err)
	}
	if e.labelEnc, err = schemas.NewEncoder(ctx, e.schemas, schemas.Subject(testLabels), quality.LabelSchema); err != nil {
		t.Fatal(err)
	}
	if e.reqEnc, err = schemas.NewEncoder(ctx, e.schemas, schemas.Subject(testRequests), drift.RetrainRequestedSchema); err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	prodOnce sync.Once
	prodONNX []byte
	prodSig  []byte
	prodErr  error
)

// registerProduction registers the demo model, trained on stationary
// events, as version 1 of "fraud" in production.
func (e *rtEnv) registerProduction(t *testing.T) {
	t.Helper()
	prodOnce.Do(func() {
		m, sig, _, err := training.TrainDemoModel(1, 20000)
		if err != nil {
			prodErr = err
			return
		}
		if prodONNX, prodErr = training.WriteONNX(m, sig.Input.Tensor, sig.Output.Tensor); prodErr == nil {
			prodSig, prodErr = yaml.Marshal(sig)
		}
	})
	if prodErr != nil {
		t.Fatal(prodErr)
	}
	_, err := e.reg.Register(t.Context(), training.DemoModelName, registry.RegisterRequest{
		ONNX: prodONNX, Signature: prodSig, Stage: registry.StageProduction,
		Metrics: map[string]float64{"auc": 0.88},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// driftedTraffic returns n labelled demo events, encoded, with
// ip_risk_score and merchant_risk shifted by shift training standard
// deviations; labels are timed 1ms apart from now, in event order.
func (e *rtEnv) driftedTraffic(t *testing.T, seed int64, n int, shift float64) ([]pipeline.KeptEvent, []quality.Label) {
	t.Helper()
	g := demo.NewGenerator(seed, demo.WithDrift(demo.Drift{Features: []string{"ip_risk_score", "merchant_risk"}, Shift: shift}))
	events := make([]pipeline.KeptEvent, n)
	labels := make([]quality.Label, n)
	base := time.Now()
	for i := range events {
		rec, fraud := g.NextLabelled()
		value, err := e.featEnc.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		id := rec[demo.FieldEventID].(string)
		events[i] = pipeline.KeptEvent{EventID: id, Value: value}
		labels[i] = quality.Label{EventID: id, Time: base.Add(time.Duration(i) * time.Millisecond)}
		if fraud {
			labels[i].Class = 1
		} else {
			labels[i].Name = "legit" // by name, the other way a label can say it
			labels[i].Class = -1
		}
	}
	return events, labels
}

// trafficAt returns n labelled demo events, encoded, with ip_risk_score and
// merchant_risk shifted by shift training standard deviations; event i
// happened at start + i ms and its label came a second later.
func (e *rtEnv) trafficAt(t *testing.T, seed int64, n int, shift float64, start time.Time, opts ...demo.Option) ([]pipeline.KeptEvent, []quality.Label) {
	t.Helper()
	if shift != 0 {
		opts = append(opts, demo.WithDrift(demo.Drift{Features: []string{"ip_risk_score", "merchant_risk"}, Shift: shift}))
	}
	g := demo.NewGenerator(seed, opts...)
	events := make([]pipeline.KeptEvent, n)
	labels := make([]quality.Label, n)
	for i := range events {
		rec, fraud := g.NextLabelled()
		at := start.Add(time.Duration(i) * time.Millisecond)
		rec[demo.FieldEventTime] = at
		value, err := e.featEnc.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		id := rec[demo.FieldEventID].(string)
		events[i] = pipeline.KeptEvent{EventID: id, Value: value}
		labels[i] = quality.Label{EventID: id, Time: at.Add(time.Second)}
		if fraud {
			labels[i].Class = 1
		}
	}
	return events, labels
}

// keep keeps events in the feature log in batches, as a worker does.
func (e *rtEnv) keep(t *testing.T, events []pipeline.KeptEvent) {
	t.Helper()
	for start := 0; start < len(events); start += 500 {
		if err := e.features.Keep(t.Context(), events[start:min(start+500, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
}

// publish writes msgs to topic.
func (e *rtEnv) publish(t *testing.T, topic string, msgs ...kafka.Message) {
	t.Helper()
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{e.kafka.Addr}, Topic: topic}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(testkit.Context(t, 20*time.Second), msgs...); err != nil {
		t.Fatal(err)
	}
}

func (e *rtEnv) publishLabels(t *testing.T, labels []quality.Label) {
	t.Helper()
	msgs := make([]kafka.Message, len(labels))
	for i, l := range labels {
		v, err := e.labelEnc.Append(nil, l.Native())
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Key: []byte(l.EventID), Value: v}
	}
	e.publish(t, testLabels, msgs...)
}

func kafkaMessage(key string, value []byte) kafka.Message {
	return kafka.Message{Key: []byte(key), Value: value}
}

func (e *rtEnv) requestRetrain(t *testing.T, eventID string) {
	t.Helper()
	req := &drift.RetrainRequest{
		EventID: eventID, Model: training.DemoModelName, Version: "1", Reason: "ip_risk_score, merchant_risk drifted",
		WindowIDs: []string{"1-7", "1-8"}, RequestedAt: time.Now(),
	}
	v, err := e.reqEnc.Append(nil, req.Native())
	if err != nil {
		t.Fatal(err)
	}
	e.publish(t, testRequests, kafka.Message{Key: []byte(training.DemoModelName), Value: v})
}

// retrainer returns a retrainer over the environment with its metrics.
func (e *rtEnv) retrainer(t *testing.T, cfg Config) *Retrainer {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := NewRetrainer(cfg, Deps{
		Brokers: []string{e.kafka.Addr}, Redis: e.rdb, Registry: e.reg, Schemas: e.schemas,
		Logger: testLogger(t), Metrics: NewMetrics(reg),
		Reader: func(rc *consumers.ReaderConfig) {
			rc.MaxWait, rc.SessionTimeout, rc.HeartbeatInterval = 100*time.Millisecond, 6*time.Second, 200*time.Millisecond
			rc.RebalanceTimeout, rc.JoinGroupBackoff = 5*time.Second, 200*time.Millisecond
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// run runs r until the test ends, and checks Run returned nil.
func run(t *testing.T, r *Retrainer) {
	t.Helper()
	testkit.Run(t, r.Run)
}

// runs reads sluice_retrain_runs_total{model, result} of r.
func runs(r *Retrainer, model, result string) float64 {
	return testutil.ToFloat64(r.metrics.runs.WithLabelValues(model, result))
}

// testLogger writes the retrainer's log to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// labelledRecords builds ring records from events and labels.
func labelledRecords(events []pipeline.KeptEvent, labels []quality.Label) []labelled {
	out := make([]labelled, len(events))
	for i := range events {
		out[i] = labelled{label: labels[i], value: events[i].Value}
	}
	return out
}

func state(t *testing.T, reg *registry.Registry) *registry.State {
	t.Helper()
	st, err := reg.State(t.Context(), training.DemoModelName)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
