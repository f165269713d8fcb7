package retrain

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/inference"
)

// TestMain loads ONNX Runtime through package inference, which the
// retrainer's evaluation and the registry use, and marks ortOnce done so
// that initORT does not initialise it a second time (one environment per
// process).
func TestMain(m *testing.M) {
	if lib, err := inference.FindLibrary(); err == nil {
		ortOnce.Do(func() { ortErr = inference.InitRuntime(lib) })
	}
	goleak.VerifyTestMain(m)
}
