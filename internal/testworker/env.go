package testworker

import (
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// Topics the environment creates.
const (
	Features    = "features"
	Predictions = "predictions"
	DLQ         = "features.dlq"
	Reports     = "drift-reports"
	Retrain     = "retrain-requests"
)

// Env is one test's real servers and the demo model.
type Env struct {
	Kafka    *testkit.Kafka
	Redis    *redis.Client
	Registry string // base URL of the embedded schema registry
	Client   *schemas.Client
	MLP      *training.MLP
	Sig      *inference.Signature
	ONNX     []byte

	t        testing.TB
	inputEnc *schemas.Encoder
}

var (
	demoOnce sync.Once
	demoMLP  *training.MLP
	demoSig  *inference.Signature
	demoErr  error
)

// New starts the servers (stopped when the test ends), creates the topics
// with the given partition count and trains the demo model (once per test
// binary).
func New(t testing.TB, partitions int32) *Env {
	t.Helper()
	lib, err := inference.FindLibrary()
	if err != nil {
		t.Fatal(err)
	}
	if err := inference.InitRuntime(lib); err != nil {
		t.Fatal(err)
	}
	demoOnce.Do(func() { demoMLP, demoSig, _, demoErr = training.TrainDemoModel(1, 4000) })
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	onnx, err := training.WriteONNX(demoMLP, demoSig.Input.Tensor, demoSig.Output.Tensor)
	if err != nil {
		t.Fatal(err)
	}
	k := testkit.StartKafka(t)
	for _, topic := range []string{Features, Predictions, DLQ, Reports, Retrain} {
		k.CreateTopic(t, topic, partitions)
	}
	rdb := testkit.StartRedis(t).Client()
	t.Cleanup(func() { _ = rdb.Close() })
	srv := httptest.NewServer(schemas.NewServer(rdb))
	t.Cleanup(srv.Close)
	client := schemas.NewClient(srv.URL, nil)
	enc, err := schemas.NewEncoder(t.Context(), client, schemas.Subject(Features), schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return &Env{t: t, Kafka: k, Redis: rdb, Registry: srv.URL, Client: client,
		MLP: demoMLP, Sig: demoSig, ONNX: onnx, inputEnc: enc}
}

// Attach is an Env over servers a test started itself (a broker with a
// data dir, say): StartWorker runs workers against k and the registry c
// serves, scoring with onnx and sig by default. Encode and Publish need
// New's input encoder and are not available; PublishRaw is.
func Attach(t testing.TB, k *testkit.Kafka, c *schemas.Client, onnx []byte, sig *inference.Signature) *Env {
	return &Env{t: t, Kafka: k, Client: c, ONNX: onnx, Sig: sig}
}
