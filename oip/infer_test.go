package oip_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/oip"
)

type metadata struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
	Platform string   `json:"platform"`
	Inputs   []struct {
		Name     string  `json:"name"`
		Datatype string  `json:"datatype"`
		Shape    []int64 `json:"shape"`
	} `json:"inputs"`
	Outputs []struct {
		Name     string  `json:"name"`
		Datatype string  `json:"datatype"`
		Shape    []int64 `json:"shape"`
	} `json:"outputs"`
}

// request builds a KServe-style infer request from recs: one input per
// input the model's metadata lists, one row per record (a null Avro union
// is sent as JSON null).
func request(md metadata, recs []map[string]any, id string) map[string]any {
	var inputs []tensor
	for _, in := range md.Inputs {
		data := make([]any, len(recs))
		for i, rec := range recs {
			v := rec[in.Name]
			if u, ok := v.(map[string]any); ok {
				v = u["double"]
			}
			data[i] = v
		}
		inputs = append(inputs, tensor{Name: in.Name, Shape: []int{len(recs)}, Datatype: in.Datatype, Data: data})
	}
	return map[string]any{"id": id, "inputs": inputs}
}

func float32s(t *testing.T, data []any) []float32 {
	t.Helper()
	out := make([]float32, len(data))
	for i, v := range data {
		f, err := strconv.ParseFloat(string(v.(json.Number)), 32)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = float32(f)
	}
	return out
}

// A KServe-style request gets exactly what the Kafka path publishes for
// the same features: same probabilities (bit for bit) and classes.
func TestInferMatchesTheKafkaPath(t *testing.T) {
	env := testworker.New(t, 2)
	w := start(t, env, "oip-match", oip.Config{})
	w.WaitReady(t)
	recs := env.Publish(200, 21)
	preds := env.Read(testworker.Predictions, len(recs), 60*time.Second, 200*time.Millisecond)
	type kafkaOut struct {
		scores []float32
		class  string
	}
	byID := map[string]kafkaOut{}
	for _, p := range preds {
		class, _ := p.Rec["predicted_class"].(string)
		if u, ok := p.Rec["predicted_class"].(map[string]any); ok {
			class, _ = u["string"].(string)
		}
		byID[p.Rec["event_id"].(string)] = kafkaOut{p.Rec["scores"].([]float32), class}
	}

	var md metadata
	if code := call(t, "GET", w.URL+"/v2/models/fraud", nil, &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	nulls := 0
	for _, rec := range recs {
		if rec["customer_income"] == nil {
			nulls++
		}
	}
	var resp inferResponse
	if code := call(t, "POST", w.URL+"/v2/models/fraud/infer", request(md, recs, "req-1"), &resp); code != 200 {
		t.Fatalf("infer: %d %s", code, resp.Error)
	}
	if resp.ModelName != "fraud" || resp.ModelVersion != "1" || resp.ID != "req-1" {
		t.Fatalf("response names model %q version %q id %q", resp.ModelName, resp.ModelVersion, resp.ID)
	}
	probs, classes := resp.output(t, "probabilities"), resp.output(t, "predicted_class")
	if probs.Datatype != "FP32" || len(probs.Shape) != 2 || probs.Shape[0] != len(recs) || probs.Shape[1] != 2 {
		t.Fatalf("probabilities: %s %v", probs.Datatype, probs.Shape)
	}
	if classes.Datatype != "BYTES" || len(classes.Shape) != 1 || classes.Shape[0] != len(recs) {
		t.Fatalf("predicted_class: %s %v", classes.Datatype, classes.Shape)
	}
	got := float32s(t, probs.Data)
	for i, rec := range recs {
		want, ok := byID[rec["event_id"].(string)]
		if !ok {
			t.Fatalf("record %d has no prediction on the topic", i)
		}
		for j := range 2 {
			if got[i*2+j] != want.scores[j] {
				t.Fatalf("row %d probability %d: OIP %v, Kafka path %v", i, j, got[i*2+j], want.scores[j])
			}
		}
		if classes.Data[i].(string) != want.class {
			t.Fatalf("row %d: OIP class %v, Kafka path %v", i, classes.Data[i], want.class)
		}
	}
	t.Logf("%d rows identical to the Kafka path (%d with customer_income null)", len(recs), nulls)
}
