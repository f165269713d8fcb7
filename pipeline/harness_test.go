package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
)

// env is one test's real servers: a Kafka-protocol broker over TCP, a real
// redis-server behind the embedded schema registry, and the demo model
// trained and loaded in the real ONNX Runtime.
type env struct {
	t        *testing.T
	kafka    *testkit.Kafka
	registry string
	client   *schemas.Client
	mlp      *retrain.MLP
	sig      *inference.Signature
	onnx     []byte
	inputEnc *schemas.Encoder
	rdb      *redis.Client
}

var (
	demoOnce sync.Once
	demoMLP  *retrain.MLP
	demoSig  *inference.Signature
	demoErr  error
)

func newEnv(t *testing.T, partitions int32) *env {
	t.Helper()
	lib, err := inference.FindLibrary()
	if err != nil {
		t.Fatal(err)
	}
	if err := inference.InitRuntime(lib); err != nil {
		t.Fatal(err)
	}
	demoOnce.Do(func() { demoMLP, demoSig, _, demoErr = retrain.TrainDemoModel(1, 4000) })
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	onnx, err := retrain.WriteONNX(demoMLP, demoSig.Input.Tensor, demoSig.Output.Tensor)
	if err != nil {
		t.Fatal(err)
	}
	k := testkit.StartKafka(t)
	for _, topic := range []string{"features", "predictions", "features.dlq", "predictions.shadow"} {
		k.CreateTopic(t, topic, partitions)
	}
	rdb := testkit.StartRedis(t).Client()
	srv := httptest.NewServer(schemas.NewServer(rdb))
	t.Cleanup(srv.Close)
	client := schemas.NewClient(srv.URL, nil)
	enc, err := schemas.NewEncoder(t.Context(), client, "features-value", schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, kafka: k, registry: srv.URL, client: client, mlp: demoMLP, sig: demoSig, onnx: onnx, inputEnc: enc, rdb: rdb}
}

// worker is a running pipeline.Worker.
type worker struct {
	w    *pipeline.Worker
	reg  *prometheus.Registry
	stop func() error
}

func (e *env) startWorker(cfg pipeline.Config) *worker {
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
func (e *env) startWorkerWith(cfg pipeline.Config, models pipeline.Models, closeModels func() error) *worker {
	e.t.Helper()
	reg := prometheus.NewRegistry()
	enc, err := schemas.NewEncoder(e.t.Context(), e.client, "predictions-value", schemas.PredictionSchema())
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := pipeline.New(cfg, pipeline.Deps{
		Reader:   consumers.ReaderConfig{Brokers: []string{e.kafka.Addr}, MaxWait: 50 * time.Millisecond},
		Writer:   producers.WriterConfig{Brokers: []string{e.kafka.Addr}},
		Decoder:  schemas.NewDecoder(e.client, 1<<20),
		Encoder:  enc,
		Models:   models,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:  pipeline.NewMetrics(reg),
		Consumer: consumers.NewMetrics(reg),
		Producer: producers.NewMetrics(reg),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				runErr = fmt.Errorf("worker did not stop within 60s")
			}
			_ = closeModels()
		})
		return runErr
	}
	e.t.Cleanup(func() { _ = stop() })
	return &worker{w: w, reg: reg, stop: stop}
}

// publish writes n demo events (keyed by entity_id) and returns them in the
// order they were sent.
func (e *env) publish(n int, seed int64, opts ...demo.Option) []map[string]any {
	e.t.Helper()
	gen := demo.NewGenerator(seed, opts...)
	recs := make([]map[string]any, n)
	msgs := make([]kafka.Message, n)
	for i := range recs {
		recs[i] = gen.Next()
		v, err := e.inputEnc.Append(nil, recs[i])
		if err != nil {
			e.t.Fatal(err)
		}
		msgs[i] = kafka.Message{Key: []byte(recs[i]["entity_id"].(string)), Value: v}
	}
	e.publishRaw(msgs...)
	return recs
}

func (e *env) publishRaw(msgs ...kafka.Message) {
	e.t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(e.kafka.Addr), Topic: "features", Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000}
	defer w.Close()
	if err := w.WriteMessages(testkit.Context(e.t, 30*time.Second), msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// record is one message read back, decoded.
type record struct {
	msg kafka.Message
	rec map[string]any
}

// read reads n records from topic (all partitions, in partition order)
// within timeout, then keeps reading for linger to catch extra ones.
func (e *env) read(topic string, n int, timeout, linger time.Duration) []record {
	e.t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.kafka.Addr}, Topic: topic,
		GroupID: fmt.Sprintf("reader-%s-%d", topic, time.Now().UnixNano()), StartOffset: kafka.FirstOffset,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 20 * time.Millisecond})
	defer r.Close()
	dec := schemas.NewDecoder(e.client, 1<<20)
	var out []record
	deadline := time.Now().Add(timeout)
	for {
		until := deadline
		if len(out) >= n {
			until = time.Now().Add(linger)
		}
		ctx, cancel := context.WithDeadline(context.Background(), until)
		msg, err := r.FetchMessage(ctx)
		cancel()
		if err != nil {
			if len(out) < n {
				e.t.Fatalf("read %d of %d records from %s: %v", len(out), n, topic, err)
			}
			return out
		}
		rec := map[string]any(nil)
		if topic != "features.dlq" {
			if rec, _, err = dec.Decode(context.Background(), msg.Value); err != nil {
				e.t.Fatalf("decoding %s record: %v", topic, err)
			}
		}
		out = append(out, record{msg: msg, rec: rec})
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
