package training

import (
	"os"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

var (
	ortOnce sync.Once
	ortErr  error
)

// initORT loads ONNX Runtime from $ONNXRUNTIME_LIB once per test binary, and
// skips the test when the variable is not set.
func initORT(t *testing.T) {
	t.Helper()
	lib := os.Getenv("ONNXRUNTIME_LIB")
	if lib == "" {
		t.Skip("ONNXRUNTIME_LIB not set; run with ONNXRUNTIME_LIB=$(scripts/fetch-onnxruntime.sh)")
	}
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr != nil {
		t.Fatalf("initialising ONNX Runtime: %v", ortErr)
	}
}

// runORT runs an ONNX model on rows and returns its [len(rows), outWidth]
// output.
func runORT(t *testing.T, model []byte, input, output string, rows [][]float32, outWidth int) [][]float32 {
	t.Helper()
	initORT(t)
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, []string{output}, nil)
	if err != nil {
		t.Fatalf("loading model in ONNX Runtime: %v", err)
	}
	defer sess.Destroy()
	flat := make([]float32, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		flat = append(flat, r...)
	}
	in, err := ort.NewTensor(ort.NewShape(int64(len(rows)), int64(len(rows[0]))), flat)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(len(rows)), int64(outWidth)))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Destroy()
	if err := sess.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
		t.Fatalf("running model: %v", err)
	}
	data := out.GetData()
	res := make([][]float32, len(rows))
	for i := range res {
		res[i] = append([]float32(nil), data[i*outWidth:(i+1)*outWidth]...)
	}
	return res
}
