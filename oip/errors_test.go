package oip_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/oip"
)

// Requests that do not fit the model are refused with the protocol's error
// object, naming what is wrong (the input, and the row for a bad value).
func TestInferErrors(t *testing.T) {
	env := testworker.New(t, 1)
	w := start(t, env, "oip-errors", oip.Config{MaxRequestBytes: 64 << 10})
	w.WaitReady(t)
	var md metadata
	if code := call(t, "GET", w.URL+"/v2/models/fraud", nil, &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	recs := env.Publish(3, 7)
	// good returns a valid three-row request changed by edit.
	good := func(edit func(ins []tensor) []tensor) map[string]any {
		req := request(md, recs, "e")
		req["inputs"] = edit(req["inputs"].([]tensor))
		return req
	}
	find := func(ins []tensor, name string) *tensor {
		for i := range ins {
			if ins[i].Name == name {
				return &ins[i]
			}
		}
		t.Fatalf("no input %q", name)
		return nil
	}
	set := func(name string, f func(*tensor)) func([]tensor) []tensor {
		return func(ins []tensor) []tensor { f(find(ins, name)); return ins }
	}
	drop := func(name string) func([]tensor) []tensor {
		return func(ins []tensor) []tensor {
			out := ins[:0]
			for _, in := range ins {
				if in.Name != name {
					out = append(out, in)
				}
			}
			return out
		}
	}
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		want   string // in the error message
	}{
		{"unknown model", "/v2/models/nope/infer", good(drop("")), 404, `unknown model "nope"`},
		{"unknown version", "/v2/models/fraud/versions/7/infer", good(drop("")), 404, `no version "7"`},
		{"not JSON", "/v2/models/fraud/infer", []byte("{inputs: nope"), 400, "decoding the request"},
		{"no inputs", "/v2/models/fraud/infer", map[string]any{"inputs": []tensor{}}, 400, "no inputs"},
		{"unknown input", "/v2/models/fraud/infer", good(func(ins []tensor) []tensor {
			return append(ins, tensor{Name: "amout", Shape: []int{3}, Datatype: "FP64", Data: []any{1, 2, 3}})
		}), 400, `unknown input "amout"`},
		{"input twice", "/v2/models/fraud/infer", good(func(ins []tensor) []tensor { return append(ins, *find(ins, "amount")) }), 400, `input "amount" is given twice`},
		{"missing input", "/v2/models/fraud/infer", good(drop("merchant_risk")), 400, `missing input "merchant_risk"`},
		{"wrong datatype", "/v2/models/fraud/infer", good(set("card_present", func(t *tensor) { t.Datatype = "FP32" })), 400, `input "card_present": datatype "FP32", want BOOL`},
		{"wrong shape", "/v2/models/fraud/infer", good(set("amount", func(t *tensor) { t.Shape = []int{1, 3} })), 400, `input "amount": shape [1 3]`},
		{"rows disagree", "/v2/models/fraud/infer", good(set("amount", func(t *tensor) { t.Shape = []int{2}; t.Data = t.Data[:2] })), 400, `input "amount" has 2 rows; inputs`},
		{"data does not fill the shape", "/v2/models/fraud/infer", good(set("amount", func(t *tensor) { t.Data = t.Data[:2] })), 400, `input "amount": data has 2 elements`},
		{"string for a number", "/v2/models/fraud/infer", good(set("amount", func(t *tensor) { t.Data[1] = "12" })), 400, `input "amount", row 1: got a string, want a number`},
		{"not finite as float32", "/v2/models/fraud/infer", good(set("amount", func(t *tensor) { t.Data[2] = 1e300 })), 400, `input "amount", row 2: non_finite`},
		{"number for a category", "/v2/models/fraud/infer", good(set("channel", func(t *tensor) { t.Data[1] = 3 })), 400, `input "channel", row 1: got a number, want a string`},
		{"null boolean", "/v2/models/fraud/infer", good(set("card_present", func(t *tensor) { t.Data[1] = nil })), 400, `input "card_present", row 1: missing_field`},
		{"null without impute", "/v2/models/fraud/infer", good(set("mcc_risk", func(t *tensor) { t.Data[0] = nil })), 400, `input "mcc_risk", row 0: missing_field`},
		{"unknown output", "/v2/models/fraud/infer", map[string]any{"inputs": good(drop(""))["inputs"], "outputs": []map[string]string{{"name": "logits"}}}, 400, `unknown output "logits"`},
		{"too large", "/v2/models/fraud/infer", []byte(`{"inputs": [` + strings.Repeat(" ", 70<<10) + `]}`), 413, "over 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp inferResponse
			code := call(t, "POST", w.URL+tt.path, tt.body, &resp)
			if code != tt.status || !strings.Contains(resp.Error, tt.want) {
				t.Fatalf("%d %q, want %d with %q", code, resp.Error, tt.status, tt.want)
			}
		})
	}

	t.Run("binary extension", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", w.URL+"/v2/models/fraud/infer", bytes.NewReader([]byte(`{}`)))
		req.Header.Set("Inference-Header-Content-Length", "2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("binary tensor request: %d, want 400", resp.StatusCode)
		}
	})
}

// Inputs that impute may be left out, nested data and [N, 1] shapes are
// read row-major, and the outputs asked for are the ones returned.
func TestInferForms(t *testing.T) {
	env := testworker.New(t, 1)
	w := start(t, env, "oip-forms", oip.Config{})
	w.WaitReady(t)
	var md metadata
	if code := call(t, "GET", w.URL+"/v2/models/fraud", nil, &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	recs := env.Publish(4, 9)
	infer := func(req map[string]any) inferResponse {
		t.Helper()
		var resp inferResponse
		if code := call(t, "POST", w.URL+"/v2/models/fraud/infer", req, &resp); code != 200 {
			t.Fatalf("infer: %d %s", code, resp.Error)
		}
		return resp
	}
	for _, rec := range recs {
		rec["customer_income"] = nil
	}
	base := infer(request(md, recs, "nulls"))
	want := float32s(t, base.output(t, "probabilities").Data)

	omitted := request(md, recs, "omitted")
	var ins []tensor
	for _, in := range omitted["inputs"].([]tensor) {
		if in.Name == "customer_income" {
			continue
		}
		if in.Name == "amount" { // nested, [N, 1]
			nested := make([]any, len(in.Data))
			for i, v := range in.Data {
				nested[i] = []any{v}
			}
			in.Data, in.Shape = nested, []int{len(recs), 1}
		}
		ins = append(ins, in)
	}
	omitted["inputs"] = ins
	omitted["outputs"] = []map[string]string{{"name": "probabilities"}}
	got := infer(omitted)
	if len(got.Outputs) != 1 || got.Outputs[0].Name != "probabilities" {
		t.Fatalf("asked for probabilities only, got %+v", got.Outputs)
	}
	gotP := float32s(t, got.Outputs[0].Data)
	for i := range want {
		if gotP[i] != want[i] {
			t.Fatalf("element %d: %v with customer_income omitted, %v with it null", i, gotP[i], want[i])
		}
	}

	empty := request(md, recs[:0], "empty")
	resp := infer(empty)
	if p := resp.output(t, "probabilities"); len(p.Data) != 0 || p.Shape[0] != 0 || p.Shape[1] != 2 {
		t.Fatalf("zero rows: %+v", p)
	}
}
