package testworker

import (
	"sync"
	"testing"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/training"
)

// InitRuntime loads the ONNX Runtime library ($ONNXRUNTIME_LIB, or the
// project's cached download) into the test process; later calls do
// nothing.
func InitRuntime(t testing.TB) {
	t.Helper()
	if err := inference.Load(); err != nil {
		t.Fatalf("testworker: %v\n(ONNXRUNTIME_LIB=$(scripts/fetch-onnxruntime.sh) go test ...)", err)
	}
}

// Demo is the demo fraud model the tests serve: trained on 4,000 events
// of demo.NewGenerator(1), its signature and its ONNX encoding.
type Demo struct {
	MLP  *training.MLP
	Sig  *inference.Signature
	ONNX []byte
}

var (
	demoOnce  sync.Once
	demoModel Demo
	demoErr   error
)

// DemoModel initialises ONNX Runtime and returns the demo model, trained
// once per test binary (training takes seconds under -race).
func DemoModel(t testing.TB) Demo {
	t.Helper()
	InitRuntime(t)
	demoOnce.Do(func() {
		var d Demo
		if d.MLP, d.Sig, _, demoErr = training.TrainDemoModel(1, 4000); demoErr != nil {
			return
		}
		if d.ONNX, demoErr = training.WriteONNX(d.MLP, d.Sig.Input.Tensor, d.Sig.Output.Tensor); demoErr == nil {
			demoModel = d
		}
	})
	if demoErr != nil {
		t.Fatalf("testworker: the demo model: %v", demoErr)
	}
	return demoModel
}
