package faults

import (
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// Topics every test uses.
const (
	inputTopic  = "features"
	outputTopic = "predictions"
	dlqTopic    = "features.dlq"
)

// env is one test's real servers: a Kafka-protocol broker over TCP, a real
// redis-server behind the embedded schema registry (over TCP, so that a
// subprocess reaches it too), and the demo model written as a model dir.
type env struct {
	t        *testing.T
	kafka    *testkit.Kafka
	redis    *testkit.Redis
	registry string // the schema registry's URL
	client   *schemas.Client
	inputEnc *schemas.Encoder
	modelDir string
	sig      *inference.Signature
	onnx     []byte
}

// newEnv starts the servers (internal/testkit); kopts go to the broker
// (kfake.DataDir for a broker that restarts). The registry listens on TCP,
// so that a subprocess reaches it too.
func newEnv(t *testing.T, partitions int32, kopts ...kfake.Opt) *env {
	t.Helper()
	demo := testworker.DemoModel(t)
	e := &env{t: t, sig: demo.Sig, onnx: demo.ONNX}
	e.modelDir = filepath.Join(t.TempDir(), "model")
	if err := training.WriteModelDir(e.modelDir, demo.MLP, demo.Sig); err != nil {
		t.Fatal(err)
	}
	e.kafka = testkit.StartKafka(t, kopts...)
	for _, topic := range []string{inputTopic, outputTopic, dlqTopic} {
		e.kafka.CreateTopic(t, topic, partitions)
	}
	e.redis = testkit.StartRedis(t)
	reg := testworker.StartRegistry(t, e.redis.Client())
	e.registry, e.client = reg.URL, reg.Client
	var err error
	e.inputEnc, err = schemas.NewEncoder(t.Context(), e.client, schemas.Subject(inputTopic), schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// shortGroupTimeouts makes the broker treat every consumer-group member as
// if it had asked for a 5s rebalance timeout. A SIGKILLed kafka-go member
// never leaves its group; the coordinator then waits the dead member's
// rebalance timeout (30s by default, and `sluice run` has no key for it)
// before the group can form again without it.
func shortGroupTimeouts(k *testkit.Kafka) {
	k.Cluster.ControlKey(int16(kmsg.JoinGroup), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		if jr, ok := req.(*kmsg.JoinGroupRequest); ok {
			jr.RebalanceTimeoutMillis = 5000
		}
		return nil, nil, false
	})
}
