package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// TestMultiRouteWorkerSIGKILLed kills a `sluice run` serving two routes
// (features → predictions on model fraud, and in-b → scores-b on model
// churn, each its own group) with SIGKILL while events stream into both,
// restarting it each time. Neither route may lose an event, and each kill
// may cause at most max_in_flight duplicates per route.
func TestMultiRouteWorkerSIGKILLed(t *testing.T) {
	e := newEnv(t, 4)
	shortGroupTimeouts(e.kafka)
	for _, topic := range []string{"in-b", "in-b.dlq", "scores-b"} {
		e.kafka.CreateTopic(t, topic, 4)
	}
	const (
		kills       = 2
		maxInFlight = 256
		total       = 6000 // per route
	)
	// pipeline.group stays the default: with routes, each route names its own.
	opts := workerOpts{Group: "sluice", MaxInFlight: maxInFlight, BatchSize: 64,
		CommitInterval: 200 * time.Millisecond, Grace: 10 * time.Second}
	admin := freeAddr(t)
	cfg := e.writeConfig(opts, admin)
	routes := fmt.Sprintf(`routes:
  - name: fraud
    input_topic: %s
    output_topic: %s
    group: kill-a
  - name: churn
    input_topic: in-b
    output_topic: scores-b
    model: churn
    model_dir: %q
    model_version: "3"
`, inputTopic, outputTopic, e.modelDir)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(routes); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run := func(i int) *proc {
		return startProc(t, fmt.Sprintf("worker-%d", i), admin, nil, "run", "--config", cfg)
	}

	la, lb := newLedger(), newLedger()
	outA := newOutputs(t, e.kafka.Addr, e.client)
	outB := newOutputs(t, e.kafka.Addr, e.client)
	outB.topics = []string{"scores-b", "in-b.dlq"}
	w := run(0)
	pa := newPublisher(t, e.kafka.Addr, e.inputEnc, la, "ra")
	pb := newPublisher(t, e.kafka.Addr, e.inputEnc, lb, "rb")
	pb.w.Topic = "in-b"
	sa := pa.stream(total, 25, 50*time.Millisecond)
	sb := pb.stream(total, 25, 50*time.Millisecond)
	for i := 1; i <= kills; i++ {
		waitMetric(t, w, "sluice_predictions_produced_total", 600, 30*time.Second)
		time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
		inFlight := waitMetric(t, w, "sluice_in_flight_events", 1, 10*time.Second)
		w.kill()
		t.Logf("kill %d with %v events in flight (both routes)", i, inFlight)
		if inFlight > 2*maxInFlight {
			t.Errorf("kill %d with %v events in flight, more than 2 routes × max_in_flight %d", i, inFlight, maxInFlight)
		}
		w = run(i)
	}
	sa.wait(t)
	sb.wait(t)
	outA.waitAll(t, la, 60*time.Second)
	outB.waitAll(t, lb, 60*time.Second)
	if code, _ := w.term(20 * time.Second); code != 0 {
		t.Errorf("last worker exited %d after SIGTERM", code)
	}
	for name, r := range map[string]struct {
		l   *ledger
		out *outputs
	}{"fraud": {la, outA}, "churn": {lb, outB}} {
		f := r.out.settle(t, r.l)
		t.Logf("route %s, SIGKILL x%d: %s (bound %d per kill)", name, kills, f, maxInFlight)
		if f.Events != total {
			t.Errorf("route %s: %d events published, want %d", name, f.Events, total)
		}
		f.check(t, kills*maxInFlight)
	}
}
