package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// TestBatchThatMakesONNXRuntimeFail serves a real ONNX model that ONNX
// Runtime fails to run on any batch holding a poisoned row (an index out
// of bounds). The worker retries each failing batch with backoff, then
// splits it until the poisoned rows are alone: those are dead-lettered with
// class inference and the error; every other event is predicted.
func TestBatchThatMakesONNXRuntimeFail(t *testing.T) {
	e := newEnv(t, 4)
	w := e.startWorker(pipeline.Config{Group: "poison", MaxInFlight: 1024, Batch: batch(64)},
		inprocOpts{onnx: poisonModel(e.sig.Width()), sig: e.sig})
	waitReady(t, w)

	poisoned := map[string]bool{"poison-000100": true, "poison-000101": true, "poison-001234": true, "poison-001900": true}
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "poison")
	pub.mutate = func(id string, rec map[string]any) {
		if poisoned[id] {
			rec["amount"] = poisonAmount
		}
	}
	if err := pub.publish(testkit.Context(t, 30*time.Second), 2000); err != nil {
		t.Fatal(err)
	}
	f := out.waitAll(t, l, 40*time.Second)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f = out.settle(t, l)
	t.Logf("poisoned batch: %s; inference retries %v", f, gauge(w.reg, "sluice_inference_retries_total"))
	f.checkDeadLetters(t, 0, len(poisoned))
	if f.Predictions != f.Events-len(poisoned) {
		t.Errorf("%d predictions, want %d", f.Predictions, f.Events-len(poisoned))
	}
	for id := range poisoned {
		if c := out.class(id); c != "inference" {
			t.Errorf("poisoned event %s: dead-letter class %q, want inference", id, c)
			continue
		}
		if msg := out.info(id).Message; !strings.Contains(msg, "out of data bounds") {
			t.Errorf("poisoned event %s: dead-letter message %q does not carry the ONNX Runtime error", id, msg)
		}
	}
	// Each failing batch is tried three times before it is split.
	if r := gauge(w.reg, "sluice_inference_retries_total"); r < 2 {
		t.Errorf("sluice_inference_retries_total = %v, want at least 2", r)
	}
	if d := deadLetters(w, "inference"); d != float64(len(poisoned)) {
		t.Errorf(`sluice_dead_letters_total{reason="inference"} = %v, want %d`, d, len(poisoned))
	}
}
