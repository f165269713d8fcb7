package pipeline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/training"
)

// Versions with different weights, so that a test can tell from a
// prediction which version scored it: version 1 predicts legit for every
// event, versions 2 and 3 fraud (their weights are zero; their biases
// decide).
var versionClass = map[string]string{"1": "legit", "2": "fraud", "3": "fraud"}

// constantFiles returns model.onnx and signature.yaml of a demo-shaped
// model that predicts class for every event.
func (e *env) constantFiles(class string) (onnx, sigYAML []byte) {
	e.t.Helper()
	out, in := e.Sig.OutWidth(), e.Sig.Width()
	w := make([][]float32, out)
	for i := range w {
		w[i] = make([]float32, in)
	}
	b := make([]float32, out)
	for i, c := range training.DemoClasses() {
		b[i] = -8
		if c == class {
			b[i] = 8
		}
	}
	dir := e.t.TempDir()
	mlp := &training.MLP{Layers: []training.Dense{{W: w, B: b}}, Output: training.OutputSoftmax}
	if err := training.WriteModelDir(dir, mlp, e.Sig); err != nil {
		e.t.Fatal(err)
	}
	onnx, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		e.t.Fatal(err)
	}
	if sigYAML, err = os.ReadFile(filepath.Join(dir, "signature.yaml")); err != nil {
		e.t.Fatal(err)
	}
	return onnx, sigYAML
}

// loadVersion loads version's constant model (see versionClass) in ONNX
// Runtime.
func (e *env) loadVersion(version string) *inference.Model {
	e.t.Helper()
	onnx, _ := e.constantFiles(versionClass[version])
	m, err := inference.LoadModel("fraud", version, onnx, e.Sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 2}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// checkScoredBy fails the test for the first prediction whose class is
// not the one the version it names predicts: a prediction that names a
// version other than the one that scored it.
func checkScoredBy(t *testing.T, what string, preds []testworker.Record) {
	t.Helper()
	for _, p := range preds {
		v, class := p.Rec["model_version"].(string), p.Rec["predicted_class"]
		want, ok := versionClass[v]
		if !ok {
			t.Fatalf("%s: a prediction names version %q", what, v)
		}
		if class != want {
			t.Fatalf("%s: event %v names version %s, which predicts %s, but says %v", what, p.Rec["event_id"], v, want, class)
		}
	}
}

// seriesValue is one labelled series of w's metric name, 0 when the
// series was never created.
func seriesValue(t *testing.T, w *running, name, label, value string) float64 {
	t.Helper()
	if testutil.CollectAndCount(gathered{reg: w.reg, name: name, label: [2]string{label, value}}) == 0 {
		return 0
	}
	return testutilValue(t, w, name, label, value)
}
