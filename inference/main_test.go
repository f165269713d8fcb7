package inference

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		// Re-executed by a test that needs a fresh process; run only it.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

// needRuntime loads the ONNX Runtime library for tests that run models.
func needRuntime(t testing.TB) {
	t.Helper()
	p, err := FindLibrary()
	if err != nil {
		t.Fatalf("%v\n(ONNXRUNTIME_LIB=$(scripts/fetch-onnxruntime.sh) go test ./inference/)", err)
	}
	if err := InitRuntime(p); err != nil {
		t.Fatal(err)
	}
}
