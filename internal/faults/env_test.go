package faults

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
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
	registry *httptest.Server
	client   *schemas.Client
	inputEnc *schemas.Encoder
	modelDir string
	sig      *inference.Signature
	onnx     []byte
}

var (
	demoOnce sync.Once
	demoMLP  *training.MLP
	demoSig  *inference.Signature
	demoErr  error
)

// initRuntime loads ONNX Runtime into the test process and trains the demo
// model once.
func initRuntime(t *testing.T) {
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
}

// newEnv starts the servers; kopts go to the broker (kfake.DataDir for a
// broker that restarts).
func newEnv(t *testing.T, partitions int32, kopts ...kfake.Opt) *env {
	t.Helper()
	initRuntime(t)
	e := &env{t: t, sig: demoSig}
	var err error
	if e.onnx, err = training.WriteONNX(demoMLP, demoSig.Input.Tensor, demoSig.Output.Tensor); err != nil {
		t.Fatal(err)
	}
	e.modelDir = filepath.Join(t.TempDir(), "model")
	if err := training.WriteModelDir(e.modelDir, demoMLP, demoSig); err != nil {
		t.Fatal(err)
	}
	e.kafka = testkit.StartKafka(t, kopts...)
	for _, topic := range []string{inputTopic, outputTopic, dlqTopic} {
		e.kafka.CreateTopic(t, topic, partitions)
	}
	e.redis = testkit.StartRedis(t)
	e.registry = httptest.NewServer(schemas.NewServer(e.redis.Client()))
	t.Cleanup(e.registry.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = schemas.NewClient(e.registry.URL, &http.Client{Timeout: 5 * time.Second, Transport: tr})
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
