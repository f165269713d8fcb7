package pipeline_test

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/pipeline"
)

// A W3C trace context on an input record travels to its prediction, and a
// dead letter keeps it with the other original headers; other input
// headers stay off the prediction.
func TestTraceContextIsCarried(t *testing.T) {
	e := newEnv(t, 1)
	w := e.startWorker(pipeline.Config{Group: "trace"})
	waitReady(t, w)
	const (
		parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		state  = "congo=t61rcWkgMzE"
		other  = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	)
	gen := demo.NewGenerator(5)
	good := gen.Next()
	v, err := e.Input.Append(nil, good)
	if err != nil {
		t.Fatal(err)
	}
	bad := gen.Next()
	bad["amount"] = 1e300 // not a finite float32: dead-lettered as non_finite
	bv, err := e.Input.Append(nil, bad)
	if err != nil {
		t.Fatal(err)
	}
	e.PublishRaw(
		kafka.Message{Key: []byte("k1"), Value: v, Headers: []kafka.Header{
			{Key: "traceparent", Value: []byte(parent)},
			{Key: "tracestate", Value: []byte(state)},
			{Key: "x-tenant", Value: []byte("acme")},
		}},
		kafka.Message{Key: []byte("k2"), Value: bv, Headers: []kafka.Header{{Key: "traceparent", Value: []byte(other)}}},
		kafka.Message{Key: []byte("k3"), Value: []byte{1, 2, 3}, Headers: []kafka.Header{{Key: "traceparent", Value: []byte(other)}}},
	)

	preds := e.Read("predictions", 1, 30*time.Second, 200*time.Millisecond)
	if len(preds) != 1 {
		t.Fatalf("%d predictions, want 1", len(preds))
	}
	got := headers(preds[0].Msg)
	if got["traceparent"] != parent || got["tracestate"] != state {
		t.Fatalf("prediction headers %v, want traceparent %s and tracestate %s", got, parent, state)
	}
	if _, ok := got["x-tenant"]; ok {
		t.Fatalf("prediction carries a header that is not trace context: %v", got)
	}
	if preds[0].Rec["event_id"] != good["event_id"] {
		t.Fatalf("prediction for %v, want %v", preds[0].Rec["event_id"], good["event_id"])
	}

	dlq := e.Read("features.dlq", 2, 30*time.Second, 200*time.Millisecond)
	if len(dlq) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dlq))
	}
	classes := map[string]bool{}
	for _, d := range dlq {
		h := headers(d.Msg)
		info, err := consumers.ParseDeadLetter(d.Msg)
		if err != nil {
			t.Fatal(err)
		}
		if h["traceparent"] != other {
			t.Fatalf("dead letter (%s) headers %v, want traceparent %s", info.Class, h, other)
		}
		classes[string(info.Class)] = true
	}
	if !classes["non_finite"] || len(classes) != 2 {
		t.Fatalf("dead-letter classes %v, want non_finite (mapping) and one framing class", classes)
	}
}

func headers(m kafka.Message) map[string]string {
	out := map[string]string{}
	for _, h := range m.Headers {
		out[h.Key] = string(h.Value)
	}
	return out
}
