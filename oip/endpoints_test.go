package oip_test

import (
	"testing"

	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/oip"
	"github.com/sluice-ml/sluice/pipeline"
)

func TestMetadataAndHealth(t *testing.T) {
	env := testworker.New(t, 1)
	w := start(t, env, "oip-meta", oip.Config{})
	w.WaitReady(t)

	var md metadata
	if code := call(t, "GET", w.URL+"/v2/models/fraud", nil, &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	if md.Name != "fraud" || len(md.Versions) != 1 || md.Versions[0] != "1" || md.Platform != "onnxruntime" {
		t.Fatalf("metadata %+v", md)
	}
	if len(md.Inputs) != len(env.Sig.Input.Columns) {
		t.Fatalf("%d inputs, the signature has %d columns", len(md.Inputs), len(env.Sig.Input.Columns))
	}
	// Numbers are advertised as the model tensor takes them: the demo's is float32.
	want := map[string]string{"amount": "FP32", "card_present": "BOOL", "channel": "BYTES", "customer_income": "FP32"}
	for _, in := range md.Inputs {
		if dt, ok := want[in.Name]; ok {
			if in.Datatype != dt || len(in.Shape) != 1 || in.Shape[0] != -1 {
				t.Errorf("input %s: %s %v, want %s [-1]", in.Name, in.Datatype, in.Shape, dt)
			}
			delete(want, in.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("inputs missing from metadata: %v", want)
	}
	if len(md.Outputs) != 2 || md.Outputs[0].Name != "probabilities" || md.Outputs[0].Datatype != "FP32" ||
		len(md.Outputs[0].Shape) != 2 || md.Outputs[0].Shape[1] != 2 ||
		md.Outputs[1].Name != "predicted_class" || md.Outputs[1].Datatype != "BYTES" {
		t.Errorf("outputs %+v", md.Outputs)
	}

	tests := []struct {
		path   string
		status int
		key    string // a key the JSON answer has
	}{
		{"/v2", 200, "extensions"},
		{"/v2/health/live", 200, "live"},
		{"/v2/health/ready", 200, "ready"},
		{"/v2/models/fraud/ready", 200, "ready"},
		{"/v2/models/fraud/versions/1", 200, "inputs"},
		{"/v2/models/fraud/versions/1/ready", 200, "ready"},
		{"/v2/models/other", 404, "error"},
		{"/v2/models/other/ready", 404, "error"},
		{"/v2/models/fraud/versions/2", 404, "error"},
		{"/v2/nothing/here", 404, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var body map[string]any
			if code := call(t, "GET", w.URL+tt.path, nil, &body); code != tt.status {
				t.Fatalf("GET %s: %d %v, want %d", tt.path, code, body, tt.status)
			}
			if _, ok := body[tt.key]; !ok {
				t.Fatalf("GET %s: %v has no %q", tt.path, body, tt.key)
			}
		})
	}

	// Once the worker has stopped, inference answers 503.
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	recs := env.Publish(1, 3)
	var resp inferResponse
	if code := call(t, "POST", w.URL+"/v2/models/fraud/infer", request(md, recs, ""), &resp); code != 503 {
		t.Fatalf("infer on a stopped worker: %d %+v, want 503", code, resp)
	}
}

// A worker that has not joined its consumer group is not ready.
func TestNotReady(t *testing.T) {
	env := testworker.New(t, 1)
	w := env.StartWorker(pipeline.Config{Group: "oip-never"}, testworker.Options{Handlers: register(oip.Config{}), ReaderBrokers: unreachable(t)})
	for _, p := range []string{"/v2/health/ready", "/v2/models/fraud/ready"} {
		var body map[string]any
		if code := call(t, "GET", w.URL+p, nil, &body); code != 503 || body["error"] == nil {
			t.Errorf("GET %s before the worker joined: %d %v, want 503 with an error", p, code, body)
		}
	}
	var body map[string]any
	if code := call(t, "GET", w.URL+"/v2/health/live", nil, &body); code != 200 {
		t.Errorf("live: %d", code)
	}
	var resp inferResponse
	if code := call(t, "POST", w.URL+"/v2/models/fraud/infer", map[string]any{"inputs": []tensor{}}, &resp); code != 503 {
		t.Errorf("infer before the worker joined: %d %+v, want 503", code, resp)
	}
}
