package pipeline_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
	"github.com/sluice-ml/sluice/worker"
)

// env is one test's real servers (internal/testworker: a Kafka-protocol
// broker over TCP, a real redis-server behind the embedded schema registry,
// the demo model trained for the real ONNX Runtime), with the names these
// tests use.
type env struct {
	*testworker.Env
	t        *testing.T
	kafka    *testkit.Kafka
	client   *schemas.Client
	mlp      *training.MLP
	sig      *inference.Signature
	onnx     []byte
	inputEnc *schemas.Encoder
	rdb      *redis.Client
}

func newEnv(t *testing.T, partitions int32) *env {
	t.Helper()
	tw := testworker.New(t, partitions)
	tw.Kafka.CreateTopic(t, "predictions.shadow", partitions)
	enc, err := schemas.NewEncoder(t.Context(), tw.Client, "features-value", schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return &env{Env: tw, t: t, kafka: tw.Kafka, client: tw.Client, mlp: tw.MLP, sig: tw.Sig, onnx: tw.ONNX, inputEnc: enc, rdb: tw.Redis}
}

// running is a running pipeline.Worker.
type running struct {
	w    *worker.Worker
	reg  *prometheus.Registry
	stop func() error
}

func (e *env) startWorker(cfg pipeline.Config) *running {
	e.t.Helper()
	model := e.loadModel("1")
	return e.startWorkerWith(cfg, pipeline.NewStaticModel(model), model.Close)
}

// loadModel loads the demo model in ONNX Runtime under the given version.
func (e *env) loadModel(version string) *inference.Model {
	e.t.Helper()
	m, err := inference.LoadModel("fraud", version, e.onnx, e.sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// startWorkerWith runs a worker serving models; closeModels runs after it stopped.
func (e *env) startWorkerWith(cfg pipeline.Config, models pipeline.Models, closeModels func() error) *running {
	e.t.Helper()
	tw := e.StartWorker(cfg, testworker.Options{Models: models, CloseModels: closeModels, Client: e.client})
	return &running{w: tw.W, reg: tw.Reg, stop: tw.Stop}
}

// publish writes n demo events (keyed by entity_id) and returns them in the
// order they were sent.
func (e *env) publish(n int, seed int64, opts ...demo.Option) []map[string]any {
	e.t.Helper()
	return e.Publish(n, seed, opts...)
}

func (e *env) publishRaw(msgs ...kafka.Message) {
	e.t.Helper()
	e.PublishRaw(msgs...)
}

// record is one message read back, decoded.
type record struct {
	msg kafka.Message
	rec map[string]any
}

// read reads n records from topic within timeout, then keeps reading for
// linger to catch extra ones.
func (e *env) read(topic string, n int, timeout, linger time.Duration) []record {
	e.t.Helper()
	rs := e.Read(topic, n, timeout, linger)
	out := make([]record, len(rs))
	for i, r := range rs {
		out[i] = record{msg: r.Msg, rec: r.Rec}
	}
	return out
}

// deadLettersByCase reads exactly n dead letters and indexes them by the
// "case" header the test put on each bad input.
func (e *env) deadLettersByCase(n int) map[string]kafka.Message {
	e.t.Helper()
	dlq := e.read("features.dlq", n, 60*time.Second, 500*time.Millisecond)
	if len(dlq) != n {
		e.t.Fatalf("%d dead letters, want %d", len(dlq), n)
	}
	byCase := map[string]kafka.Message{}
	for _, d := range dlq {
		for _, h := range d.msg.Headers {
			if h.Key == "case" {
				byCase[string(h.Value)] = d.msg
			}
		}
	}
	return byCase
}

// TestMain fails the package's tests when a goroutine outlives them: every
// stage, the source's committer and the sink's senders end when the
// worker's Run returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
