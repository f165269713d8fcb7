package oip_test

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testmodels"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/oip"
	"github.com/sluice-ml/sluice/pipeline"
)

// startModel runs a worker serving one of internal/testmodels' models
// with the protocol on its admin server.
func startModel(t *testing.T, name string) *testworker.Worker {
	t.Helper()
	env := testworker.New(t, 1)
	onnx, sigYAML := testmodels.Model(t, name)
	sig, err := inference.ParseSignature(sigYAML)
	if err != nil {
		t.Fatal(err)
	}
	w := env.StartWorker(pipeline.Config{Group: "oip-" + name}, testworker.Options{ONNX: onnx, Sig: sig,
		Handlers: func(w *pipeline.Worker, adm *admin.Server) { oip.New(w, oip.Config{}).Register(adm) }})
	w.WaitReady(t)
	return w
}

func numbers(t *testing.T, data []any) []float64 {
	t.Helper()
	out := make([]float64, len(data))
	for i, d := range data {
		f, err := d.(json.Number).Float64()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = f
	}
	return out
}

// A model with a string input and a float one, and a label output: the
// metadata describes both inputs as their tensors take them, and a request
// gets the model's probabilities and label.
func TestInferStringAndFloatInputs(t *testing.T) {
	w := startModel(t, "string_input")
	var md metadata
	if code := call(t, "GET", w.URL+"/v2/models/fraud", nil, &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	if len(md.Inputs) != 2 || md.Inputs[0].Name != "city" || md.Inputs[0].Datatype != "BYTES" ||
		md.Inputs[1].Name != "amount" || md.Inputs[1].Datatype != "FP32" {
		t.Fatalf("inputs %+v, want city BYTES and amount FP32", md.Inputs)
	}
	g := testmodels.Golden(t, "string_input")
	var cities []string
	var amounts []float64
	var labels []int
	for k, v := range map[string]any{"city": &cities, "amount": &amounts, "label": &labels} {
		if err := json.Unmarshal(g[k], v); err != nil {
			t.Fatal(err)
		}
	}
	cityData, amountData := make([]any, len(cities)), make([]any, len(amounts))
	for i := range cities {
		cityData[i], amountData[i] = cities[i], amounts[i]
	}
	req := map[string]any{"inputs": []tensor{
		{Name: "city", Shape: []int{len(cities)}, Datatype: "BYTES", Data: cityData},
		{Name: "amount", Shape: []int{len(amounts), 1}, Datatype: "FP64", Data: amountData},
	}}
	var resp inferResponse
	if code := call(t, "POST", w.URL+"/v2/models/fraud/infer", req, &resp); code != 200 {
		t.Fatalf("infer: %d %s", code, resp.Error)
	}
	probs := numbers(t, resp.output(t, "probabilities").Data)
	classes := resp.output(t, "predicted_class").Data
	want := testmodels.Floats(t, g["probabilities"])
	for i := range cities {
		if classes[i] != []string{"keep", "flag"}[labels[i]] {
			t.Errorf("row %d: class %v, want label %d", i, classes[i], labels[i])
		}
		for c := range 2 {
			if math.Abs(probs[2*i+c]-want[i][c]) > 1e-5 {
				t.Errorf("row %d: probabilities %v, want %v", i, probs[2*i:2*i+2], want[i])
			}
		}
	}
}

// A vector output is an output of its own, under its tensor's name.
func TestInferVectorOutput(t *testing.T) {
	w := startModel(t, "torch_logits")
	var md metadata
	if code := call(t, "GET", w.URL+"/v2/models/fraud", nil, &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	if len(md.Inputs) != 1 || md.Inputs[0].Name != "x" || md.Inputs[0].Datatype != "FP32" || len(md.Inputs[0].Shape) != 2 || md.Inputs[0].Shape[1] != 4 {
		t.Fatalf("inputs %+v, want x FP32 [-1 4]", md.Inputs)
	}
	if len(md.Outputs) != 3 || md.Outputs[2].Name != "embedding" || md.Outputs[2].Shape[1] != 8 {
		t.Fatalf("outputs %+v, want probabilities, predicted_class, embedding [-1 8]", md.Outputs)
	}
	g := testmodels.Golden(t, "torch_logits")
	x := testmodels.Floats(t, g["features"])
	var data []any
	for _, r := range x {
		for _, v := range r {
			data = append(data, v)
		}
	}
	req := map[string]any{"inputs": []tensor{{Name: "x", Shape: []int{len(x), 4}, Datatype: "FP32", Data: data}},
		"outputs": []map[string]string{{"name": "embedding"}}}
	var resp inferResponse
	if code := call(t, "POST", w.URL+"/v2/models/fraud/infer", req, &resp); code != 200 {
		t.Fatalf("infer: %d %s", code, resp.Error)
	}
	if len(resp.Outputs) != 1 {
		t.Fatalf("outputs %+v, want only the embedding asked for", resp.Outputs)
	}
	emb := resp.output(t, "embedding")
	got := numbers(t, emb.Data)
	want := testmodels.Floats(t, g["embedding"])
	if len(emb.Shape) != 2 || emb.Shape[0] != len(x) || emb.Shape[1] != 8 {
		t.Fatalf("embedding shape %v", emb.Shape)
	}
	for i := range want {
		for k := range want[i] {
			if math.Abs(got[8*i+k]-want[i][k]) > 1e-5 {
				t.Fatalf("row %d: embedding element %s = %v, want %v", i, strconv.Itoa(k), got[8*i+k], want[i][k])
			}
		}
	}
}
