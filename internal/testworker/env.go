package testworker

import (
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
	// Input encodes demo transactions under features-value (nil for an
	// Env made by Attach).
	Input *schemas.Encoder

	t testing.TB
}

// New starts the servers (stopped when the test ends; internal/testkit),
// creates the topics with the given partition count and takes the demo
// model (trained once per test binary).
func New(t testing.TB, partitions int32) *Env {
	t.Helper()
	demo := DemoModel(t)
	k := testkit.StartKafka(t)
	for _, topic := range []string{Features, Predictions, DLQ, Reports, Retrain} {
		k.CreateTopic(t, topic, partitions)
	}
	rdb := testkit.StartRedis(t).Client()
	reg := StartRegistry(t, rdb)
	enc, err := schemas.NewEncoder(t.Context(), reg.Client, schemas.Subject(Features), schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return &Env{t: t, Kafka: k, Redis: rdb, Registry: reg.URL, Client: reg.Client,
		MLP: demo.MLP, Sig: demo.Sig, ONNX: demo.ONNX, Input: enc}
}

// Attach is an Env over servers a test started itself (a broker with a
// data dir, say): StartWorker runs workers against k and the registry c
// serves, scoring with onnx and sig by default. Encode and Publish need
// New's input encoder and are not available; PublishRaw is.
func Attach(t testing.TB, k *testkit.Kafka, c *schemas.Client, onnx []byte, sig *inference.Signature) *Env {
	return &Env{t: t, Kafka: k, Client: c, ONNX: onnx, Sig: sig}
}
