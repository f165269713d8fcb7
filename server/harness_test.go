package server

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/training"
)

// logBuffer collects a logger's output; it is safe for concurrent use.
type logBuffer = testkit.LogBuffer

// initRuntime loads ONNX Runtime once for the test binary.
func initRuntime(t *testing.T) { testworker.InitRuntime(t) }

// constantModel writes a demo-shaped model into a new directory (model.onnx
// and signature.yaml) that predicts class class (0: legit, 1: fraud) for
// every event, whatever its features: its weights are zero and its biases
// decide.
func constantModel(t *testing.T, class int) (dir string, mlp *training.MLP) {
	t.Helper()
	sig := training.DemoSignature()
	w := make([][]float32, sig.OutWidth())
	r := rand.New(rand.NewPCG(uint64(class), 7))
	for i := range w {
		w[i] = make([]float32, sig.Width())
		for j := range w[i] {
			w[i][j] = float32(r.NormFloat64() * 1e-6)
		}
	}
	b := make([]float32, sig.OutWidth())
	for i := range b {
		b[i] = -8
	}
	b[class] = 8
	mlp = &training.MLP{Layers: []training.Dense{{W: w, B: b}}, Output: training.OutputSoftmax}
	dir = t.TempDir()
	if err := training.WriteModelDir(dir, mlp, sig); err != nil {
		t.Fatal(err)
	}
	return dir, mlp
}

// get returns the body of GET url.
func get(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noneContain fails the test for each named output that holds s.
func noneContain(t *testing.T, s string, outputs map[string]string) {
	t.Helper()
	for name, out := range outputs {
		if i := strings.Index(out, s); i >= 0 {
			t.Errorf("%s prints a secret: ...%s...", name, out[max(0, i-120):min(len(out), i+len(s)+40)])
		}
	}
}

// total sums every series of the metric name in reg (0 when absent).
func total(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	return testkit.Sum(reg, name)
}
