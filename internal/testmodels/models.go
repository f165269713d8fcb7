package testmodels

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Dir is inference/testdata/models, where the fixtures and every model's
// signature (NAME.yaml) are.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testmodels: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "inference", "testdata", "models")
}

var (
	ortOnce sync.Once
	ortDir  string
	ortErr  error
)

// ORTTestData is onnxruntime_go's test_data folder in the module cache
// (sklearn_randomforest.onnx, example_multitype.onnx and others).
func ORTTestData(t testing.TB) string {
	t.Helper()
	ortOnce.Do(func() {
		var out []byte
		out, ortErr = exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yalue/onnxruntime_go").Output()
		ortDir = filepath.Join(strings.TrimSpace(string(out)), "test_data")
	})
	if ortErr != nil {
		t.Fatalf("testmodels: finding onnxruntime_go in the module cache: %v", ortErr)
	}
	return ortDir
}

// Model returns the ONNX bytes and signature.yaml of a model by name: a
// fixture (torch_softmax), or one of onnxruntime_go's
// (sklearn_randomforest), whose signatures are fixtures too.
func Model(t testing.TB, name string) (onnx, signature []byte) {
	t.Helper()
	path := filepath.Join(Dir(t), name+".onnx")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(ORTTestData(t), name+".onnx")
	}
	onnx, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	signature, err = os.ReadFile(filepath.Join(Dir(t), name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return onnx, signature
}

// Golden returns golden.json's entry for a fixture: its input rows and
// expected outputs by name.
func Golden(t testing.TB, name string) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	g, ok := all[name]
	if !ok {
		t.Fatalf("testmodels: golden.json has no %s", name)
	}
	return g
}

// Floats decodes a golden value: a list of rows of numbers.
func Floats(t testing.TB, raw json.RawMessage) [][]float64 {
	t.Helper()
	var rows [][]float64
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// Iris is the six iris rows of skl2onnx's random forest and what the
// model gives for them, as onnxruntime_go's generate_sklearn_network.py
// printed them when it made sklearn_randomforest.onnx (its
// TestSklearnNetwork checks the same values).
var Iris = struct {
	Rows   [][4]float32
	Labels []int64
	Probs  [][3]float32
}{
	Rows: [][4]float32{
		{5.9, 3.0, 5.1, 1.8}, {6.8, 2.8, 4.8, 1.4}, {6.3, 2.3, 4.4, 1.3},
		{6.5, 3.0, 5.5, 1.8}, {7.7, 2.8, 6.7, 2.0}, {5.5, 2.5, 4.0, 1.3},
	},
	Labels: []int64{2, 1, 1, 2, 2, 1},
	Probs: [][3]float32{
		{0.0, 0.13, 0.87}, {0.0, 0.77, 0.23}, {0.0, 0.97, 0.03},
		{0.0, 0.0, 1.0}, {0.0, 0.0, 1.0}, {0.0, 1.0, 0.0},
	},
}
