package quality_test

import (
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// Topics the quality tests add to the worker environment's.
const (
	labelsTopic  = "labels"
	shadowTopic  = "predictions.shadow"
	reportsTopic = "quality-reports"
)

// qEnv is the quality service's world: Kafka, Redis, the schema registry,
// the model registry (recording its events) and encoders for the
// predictions and labels the tests publish.
type qEnv struct {
	*testworker.Env
	reg      *registry.Registry
	events   *testworker.Events
	predEnc  *schemas.Encoder
	labelEnc *schemas.Encoder
	sigYAML  []byte
}

func newQEnv(t *testing.T) *qEnv {
	t.Helper()
	e := &qEnv{Env: testworker.New(t, 1), events: &testworker.Events{}}
	for _, topic := range []string{labelsTopic, shadowTopic, reportsTopic} {
		e.Kafka.CreateTopic(t, topic, 1)
	}
	e.reg = registry.New(e.Redis, registry.Config{}, registry.WithEmitter(e.events), registry.WithLogger(slog.New(slog.DiscardHandler)))
	var err error
	if e.predEnc, err = schemas.NewEncoder(t.Context(), e.Client, schemas.Subject(testworker.Predictions), schemas.PredictionSchema()); err != nil {
		t.Fatal(err)
	}
	if e.labelEnc, err = schemas.NewEncoder(t.Context(), e.Client, schemas.Subject(labelsTopic), quality.LabelSchema); err != nil {
		t.Fatal(err)
	}
	if e.sigYAML, err = yaml.Marshal(e.Sig); err != nil {
		t.Fatal(err)
	}
	return e
}

// register registers the demo model as the next version of model, with
// holdout metrics, in stage.
func (e *qEnv) register(t *testing.T, model string, metrics map[string]float64, stage registry.Stage, pct float64) string {
	t.Helper()
	v, err := e.reg.Register(t.Context(), model, registry.RegisterRequest{ONNX: e.ONNX, Signature: e.sigYAML, Metrics: metrics, Stage: stage, Percent: pct})
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

// service runs a quality service over the environment until the test
// ends, and returns it with its metrics registry.
func (e *qEnv) service(t *testing.T, cfg quality.Config) (*quality.Service, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := quality.New(cfg, quality.Deps{
		Brokers: []string{e.Kafka.Addr}, Redis: e.Redis, Registry: e.reg, Schemas: e.Client, Sink: e.NewSink(),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Metrics: quality.NewMetrics(reg),
		Reader: func(rc *consumers.ReaderConfig) {
			rc.MaxWait, rc.SessionTimeout, rc.HeartbeatInterval = 50*time.Millisecond, 6*time.Second, 200*time.Millisecond
			rc.RebalanceTimeout, rc.JoinGroupBackoff = 5*time.Second, 200*time.Millisecond
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Run(t, s.Run)
	return s, reg
}

// pred is one prediction a test publishes: the probability of fraud.
type pred struct {
	id, model, version string
	p                  float64
	at                 time.Time
}

func (e *qEnv) predictions(t *testing.T, topic string, ps []pred) {
	t.Helper()
	msgs := make([]kafka.Message, len(ps))
	for i, p := range ps {
		v, err := e.predEnc.Append(nil, map[string]any{
			"event_id": p.id, "entity_id": "card", "model_name": p.model, "model_version": p.version,
			"scores": []any{float32(1 - p.p), float32(p.p)}, "classes": []any{"legit", "fraud"},
			"predicted_class": nil, "score": float32(p.p), "source_topic": "features", "source_partition": int32(0),
			"source_offset": int64(i), "event_time": p.at, "queued_us": int64(0), "inference_us": int64(0), "batch_size": int32(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Topic: topic, Key: []byte("card"), Value: v}
	}
	e.write(t, msgs)
}

func (e *qEnv) labels(t *testing.T, ls []quality.Label) {
	t.Helper()
	msgs := make([]kafka.Message, len(ls))
	for i, l := range ls {
		v, err := e.labelEnc.Append(nil, l.Native())
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Topic: labelsTopic, Key: []byte(l.EventID), Value: v}
	}
	e.write(t, msgs)
}

func (e *qEnv) write(t *testing.T, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(e.Kafka.Addr), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000}
	defer w.Close()
	if err := w.WriteMessages(testkit.Context(t, 30*time.Second), msgs...); err != nil {
		t.Fatal(err)
	}
}

// sigmoid and logit move between probabilities and log-odds.
func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
func logit(p float64) float64   { return math.Log(p / (1 - p)) }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// decision is the drift config the tests' quality decisions share.
func decision() drift.Config {
	return drift.Config{RetrainK: 2, RetrainM: 3, Cooldown: time.Hour, MaxRequestsPerHour: 4}
}
