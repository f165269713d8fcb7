package inference

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/internal/testmodels"
)

// loadFixture loads a model of internal/testmodels with its signature.
func loadFixture(t *testing.T, name string) *Model {
	t.Helper()
	needRuntime(t)
	onnx, sigYAML := testmodels.Model(t, name)
	sig, err := ParseSignature(sigYAML)
	if err != nil {
		t.Fatalf("%s.yaml: %v", name, err)
	}
	m, err := LoadModel(name, "1", onnx, sig, SessionConfig{Provider: ProviderCPU, IntraOpThreads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// inferRecords maps recs with m's signature and runs them in one call.
func inferRecords(t *testing.T, m *Model, recs []map[string]any) []float32 {
	t.Helper()
	rows := make([]*Row, len(recs))
	for i, rec := range recs {
		rows[i] = &Row{}
		if err := m.Signature().MapRecordInto(rec, rows[i]); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	out, err := m.InferRows(t.Context(), rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(recs)*m.OutWidth() {
		t.Fatalf("%d outputs for %d records of %d", len(out), len(recs), m.OutWidth())
	}
	return out
}

func near(a float32, b float64) bool { return math.Abs(float64(a)-b) <= 1e-5+1e-5*math.Abs(b) }

func TestServeSklearnZipMapAndLabel(t *testing.T) {
	m := loadFixture(t, "sklearn_randomforest")
	if got := m.Classes(); len(got) != 3 || got[0] != "0" || got[1] != "1" || got[2] != "2" {
		t.Fatalf("classes from the ZipMap's keys = %v, want [0 1 2]", got)
	}
	iris := testmodels.Iris
	recs := make([]map[string]any, len(iris.Rows))
	for i, r := range iris.Rows {
		// float and double fields both feed the float32 tensor.
		recs[i] = map[string]any{"sepal_length": r[0], "sepal_width": float64(r[1]), "petal_length": r[2], "petal_width": float64(r[3])}
	}
	out := inferRecords(t, m, recs)
	ow := m.OutWidth()
	for i := range recs {
		res := m.ReadOutput(out[i*ow : (i+1)*ow])
		want := strconv.FormatInt(iris.Labels[i], 10)
		if res.Class != want || res.ClassIndex != int(iris.Labels[i]) {
			t.Errorf("row %d: class %q (%d), want %s", i, res.Class, res.ClassIndex, want)
		}
		for c := range 3 {
			if !near(res.Scores[c], float64(iris.Probs[i][c])) {
				t.Errorf("row %d: probabilities %v, want %v", i, res.Scores, iris.Probs[i])
				break
			}
		}
		if res.Score != res.Scores[res.ClassIndex] {
			t.Errorf("row %d: score %v, want the predicted class's probability %v", i, res.Score, res.Scores[res.ClassIndex])
		}
	}
}

func TestServeTorchSoftmaxAndLogits(t *testing.T) {
	for _, name := range []string{"torch_softmax", "torch_logits"} {
		t.Run(name, func(t *testing.T) {
			m := loadFixture(t, name)
			g := testmodels.Golden(t, name)
			x := testmodels.Floats(t, g["features"])
			probs := testmodels.Floats(t, g["probabilities"])
			recs := make([]map[string]any, len(x))
			for i, r := range x {
				if name == "torch_softmax" {
					recs[i] = map[string]any{"x0": r[0], "x1": r[1], "x2": r[2], "x3": r[3]}
				} else {
					recs[i] = map[string]any{"x": []float64{r[0], r[1], r[2], r[3]}}
				}
			}
			out := inferRecords(t, m, recs)
			ow := m.OutWidth()
			for i := range recs {
				row := out[i*ow : (i+1)*ow]
				res := m.ReadOutput(row)
				best := 0
				for c := range probs[i] {
					if !near(res.Scores[c], probs[i][c]) {
						t.Fatalf("row %d: probabilities %v, want %v", i, res.Scores, probs[i])
					}
					if probs[i][c] > probs[i][best] {
						best = c
					}
				}
				if res.ClassIndex != best || res.Score != res.Scores[best] {
					t.Fatalf("row %d: class %d score %v, want class %d with its probability", i, res.ClassIndex, res.Score, best)
				}
				named := m.AppendNamed(nil, row)
				if name == "torch_softmax" {
					if len(named) != 0 {
						t.Fatalf("named outputs %v, want none", named)
					}
					continue
				}
				emb := testmodels.Floats(t, g["embedding"])[i]
				if len(named) != 1 || named[0].Name != "embedding" || len(named[0].Values) != len(emb) {
					t.Fatalf("named outputs %v, want the 8-wide embedding", named)
				}
				for k := range emb {
					if !near(named[0].Values[k], emb[k]) {
						t.Fatalf("row %d: embedding %v, want %v", i, named[0].Values, emb)
					}
				}
			}
		})
	}
}

// A model fixed at batch 1 runs one event per run: warm-up included (a
// run of 256 rows would fail), and a batch of six is six runs.
func TestServeFixedBatch(t *testing.T) {
	for _, tt := range []struct {
		name  string
		batch int
		want  string
	}{{"torch_fixed_batch1", 1, "score"}, {"torch_fixed_batch4", 4, "probabilities"}} {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			needRuntime(t)
			onnx, sigYAML := testmodels.Model(t, tt.name)
			sig, err := ParseSignature(sigYAML)
			if err != nil {
				t.Fatal(err)
			}
			metrics := NewMetrics(reg)
			m, err := LoadModel(tt.name, "1", onnx, sig, SessionConfig{Provider: ProviderCPU, IntraOpThreads: 1}, metrics)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.MaxBatch() != tt.batch {
				t.Fatalf("MaxBatch %d, want %d", m.MaxBatch(), tt.batch)
			}
			g := testmodels.Golden(t, tt.name)
			x := testmodels.Floats(t, g["features"])
			want := testmodels.Floats(t, g[tt.want])
			for _, n := range []int{1, len(x)} { // one event, and six (a partial last batch of 4)
				recs := make([]map[string]any, n)
				for i := range recs {
					recs[i] = map[string]any{"x": []float64{x[i][0], x[i][1], x[i][2], x[i][3]}}
				}
				out := inferRecords(t, m, recs)
				ow := m.OutWidth()
				for i := range recs {
					res := m.ReadOutput(out[i*ow : (i+1)*ow])
					for c := range want[i] {
						if !near(res.Scores[c], want[i][c]) {
							t.Fatalf("%d events, row %d: %v, want %v", n, i, res.Scores, want[i])
						}
					}
				}
			}
		})
	}
}

func TestServeStringInputAndLabel(t *testing.T) {
	m := loadFixture(t, "string_input")
	g := testmodels.Golden(t, "string_input")
	var cities []string
	var amounts []float64
	var labels []int
	if err := json.Unmarshal(g["city"], &cities); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g["amount"], &amounts); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g["label"], &labels); err != nil {
		t.Fatal(err)
	}
	probs := testmodels.Floats(t, g["probabilities"])
	recs := make([]map[string]any, len(cities))
	for i := range recs {
		recs[i] = map[string]any{"city": cities[i], "amount": map[string]any{"double": amounts[i]}}
	}
	out := inferRecords(t, m, recs)
	ow := m.OutWidth()
	classes := []string{"keep", "flag"}
	for i := range recs {
		res := m.ReadOutput(out[i*ow : (i+1)*ow])
		if res.Class != classes[labels[i]] {
			t.Errorf("row %d (%s): class %q, want %q", i, cities[i], res.Class, classes[labels[i]])
		}
		for c := range 2 {
			if !near(res.Scores[c], probs[i][c]) {
				t.Errorf("row %d: probabilities %v, want %v", i, res.Scores, probs[i])
			}
		}
		if res.Score != res.Scores[1] {
			t.Errorf("row %d: score %v, want the positive class's probability %v", i, res.Score, res.Scores[1])
		}
	}
}

// onnxruntime_go's example_multitype.onnx: OutputA = int16(InputB*InputA -
// 512), OutputB = int64(InputA)*1234, computed here by hand.
func TestServeMultiType(t *testing.T) {
	m := loadFixture(t, "example_multitype")
	if m.MaxBatch() != 1 {
		t.Fatalf("MaxBatch %d, want 1 (no batch dimension)", m.MaxBatch())
	}
	recs := []map[string]any{
		{"a": int32(3), "b": []float64{1.5, 200, -7.25, 1000}},
		{"a": int64(255), "b": []float64{0, 2, 4, 8}},
	}
	out := inferRecords(t, m, recs)
	ow := m.OutWidth()
	for i, rec := range recs {
		row := out[i*ow : (i+1)*ow]
		a := map[bool]float64{true: 3, false: 255}[i == 0]
		res := m.ReadOutput(row)
		if res.Score != float32(a*1234) {
			t.Errorf("record %d: OutputB %v, want %v", i, res.Score, a*1234)
		}
		named := m.AppendNamed(nil, row)
		if len(named) != 1 || named[0].Name != "OutputA" {
			t.Fatalf("named outputs %v, want OutputA", named)
		}
		for k, b := range rec["b"].([]float64) {
			want := float32(int16(b*a - 512))
			if named[0].Values[k] != want {
				t.Errorf("record %d: OutputA %v, want element %d = %v", i, named[0].Values, k, want)
			}
		}
	}
	// 256 does not fit uint8: a clear error, naming the field.
	var r Row
	err := m.Signature().MapRecordInto(map[string]any{"a": int32(256), "b": []float64{1, 2, 3, 4}}, &r)
	if me, ok := err.(*MapError); !ok || me.Field != "a" || me.Class != dlq.WrongType {
		t.Fatalf("a = 256 into uint8: %v, want a wrong_type MapError for a", err)
	}
}

// onnxruntime_go's example_several_inputs_and_outputs.onnx: output 1 is
// input 1 as int64 [10 10], its first element plus int64(input 3[0]);
// output 2 is input 2 as float64.
func TestServeSeveralInputsAndOutputs(t *testing.T) {
	m := loadFixture(t, "example_several_inputs_and_outputs")
	ints := make([]any, 100)
	for i := range ints {
		ints[i] = int32(i*7 - 300)
	}
	floats := make([]float32, 120)
	for i := range floats {
		floats[i] = float32(i) / 8
	}
	halves := []float32{5.5, 1, 2, 3, 4, 5, 6, 7, 8} // bfloat16 holds 5.5 exactly
	out := inferRecords(t, m, []map[string]any{{"ints": ints, "floats": floats, "halves": halves}})
	named := m.AppendNamed(nil, out)
	if len(named) != 2 || named[0].Name != "output 1" || len(named[0].Values) != 100 || named[1].Name != "output 2" || len(named[1].Values) != 120 {
		t.Fatalf("named outputs: %d", len(named))
	}
	for i, v := range named[0].Values {
		want := float32(i*7 - 300)
		if i == 0 {
			want += 5 // int64(5.5)
		}
		if v != want {
			t.Fatalf("output 1[%d] = %v, want %v", i, v, want)
		}
	}
	for i, v := range named[1].Values {
		if v != floats[i] {
			t.Fatalf("output 2[%d] = %v, want %v", i, v, floats[i])
		}
	}
}
