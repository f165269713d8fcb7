package pipeline_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/worker"
)

// env is one test's real servers and the demo model (internal/testworker:
// a Kafka-protocol broker over TCP, a real redis-server behind the
// embedded schema registry, the demo model for the real ONNX Runtime),
// with the worker helpers these tests share.
type env struct {
	*testworker.Env
	t *testing.T
}

func newEnv(t *testing.T, partitions int32) *env {
	t.Helper()
	tw := testworker.New(t, partitions)
	tw.Kafka.CreateTopic(t, "predictions.shadow", partitions)
	return &env{Env: tw, t: t}
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

// loadModel loads the demo model in ONNX Runtime under the given version,
// with two sessions of one thread: the worker's default on two cores.
func (e *env) loadModel(version string) *inference.Model {
	e.t.Helper()
	m, err := inference.LoadModel("fraud", version, e.ONNX, e.Sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 2}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// startWorkerWith runs a worker serving models; closeModels runs after it stopped.
func (e *env) startWorkerWith(cfg pipeline.Config, models pipeline.Models, closeModels func() error) *running {
	e.t.Helper()
	tw := e.StartWorker(cfg, testworker.Options{Models: models, CloseModels: closeModels})
	return &running{w: tw.W, reg: tw.Reg, stop: tw.Stop}
}

// deadLettersByCase reads exactly n dead letters and indexes them by the
// "case" header the test put on each bad input.
func (e *env) deadLettersByCase(n int) map[string]kafka.Message {
	e.t.Helper()
	dlq := e.Read("features.dlq", n, 60*time.Second, 500*time.Millisecond)
	if len(dlq) != n {
		e.t.Fatalf("%d dead letters, want %d", len(dlq), n)
	}
	byCase := map[string]kafka.Message{}
	for _, d := range dlq {
		for _, h := range d.Msg.Headers {
			if h.Key == "case" {
				byCase[string(h.Value)] = d.Msg
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
