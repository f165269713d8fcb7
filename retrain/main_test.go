package retrain

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/inference"
)

// TestMain loads ONNX Runtime through package inference, which the
// retrainer's evaluation and the registry use.
func TestMain(m *testing.M) {
	if lib, err := inference.FindLibrary(); err == nil {
		_ = inference.InitRuntime(lib)
	}
	goleak.VerifyTestMain(m)
}
