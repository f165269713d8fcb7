package registry_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// quietLog drops the registry's log lines; tests assert on events and metrics.
var quietLog = slog.New(slog.DiscardHandler)

// needRuntime loads the ONNX Runtime library.
func needRuntime(t testing.TB) {
	t.Helper()
	lib, err := inference.FindLibrary()
	if err != nil {
		t.Fatalf("%v\n(ONNXRUNTIME_LIB=$(scripts/fetch-onnxruntime.sh) go test ./registry/)", err)
	}
	if err := inference.InitRuntime(lib); err != nil {
		t.Fatal(err)
	}
}

// demoONNX is a random model over the demo signature, written with the
// project's ONNX writer: one softmax layer, or a relu hidden layer of
// hidden units before it (a larger file).
func demoONNX(t testing.TB, seed uint64, hidden int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	sig := training.DemoSignature()
	dense := func(in, out int, act string) training.Dense {
		w := make([][]float32, out)
		for i := range w {
			w[i] = make([]float32, in)
			for j := range w[i] {
				w[i][j] = float32(r.NormFloat64() * 0.1)
			}
		}
		return training.Dense{W: w, B: make([]float32, out), Act: act}
	}
	mlp := &training.MLP{Output: training.OutputSoftmax}
	in := sig.Width()
	if hidden > 0 {
		mlp.Layers = append(mlp.Layers, dense(in, hidden, training.ActRelu))
		in = hidden
	}
	mlp.Layers = append(mlp.Layers, dense(in, sig.OutWidth(), training.ActNone))
	b, err := training.WriteONNX(mlp, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sigYAML is a signature as signature.yaml; edit changes it first.
func sigYAML(t testing.TB, edit func(*inference.Signature)) []byte {
	t.Helper()
	sig := training.DemoSignature()
	if edit != nil {
		edit(sig)
	}
	b, err := yaml.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env is a redis-server and a registry over it that records its events.
type env struct {
	redis  *testkit.Redis
	rdb    *redis.Client
	reg    *registry.Registry
	events *testworker.Events
}

func newEnv(t *testing.T, cfg registry.Config) *env {
	t.Helper()
	needRuntime(t)
	e := &env{redis: testkit.StartRedis(t), events: &testworker.Events{}}
	e.rdb = e.redis.Client()
	e.reg = registry.New(e.rdb, cfg, registry.WithEmitter(e.events), registry.WithLogger(quietLog))
	return e
}

// register registers a demo model (seed, hidden) as name.
func (e *env) register(t *testing.T, name string, seed uint64, hidden int) *registry.Version {
	t.Helper()
	v, err := e.reg.Register(t.Context(), name, registry.RegisterRequest{
		ONNX: demoONNX(t, seed, hidden), Signature: sigYAML(t, nil),
		Metrics: map[string]float64{"auc": 0.9 + float64(seed)/100},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) promote(t *testing.T, name, version string, to registry.Stage, pct float64) {
	t.Helper()
	if _, err := e.reg.Promote(t.Context(), name, version, to, registry.PromoteOptions{Percent: pct}); err != nil {
		t.Fatal(err)
	}
}

// summary writes events as "type version stage previous" lines.
func summary(evs []registry.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s %s %s %s", ev.Type, ev.Version, ev.Stage, ev.Previous)
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
