package faults

import (
	"testing"
	"time"
)

// TestWorkerSIGTERMUnderLoad stops `sluice run` with SIGTERM while events
// stream in. It must drain, commit and exit 0 within shutdown_grace; a
// second worker then finishes the stream. Nothing is lost and nothing is
// scored twice.
func TestWorkerSIGTERMUnderLoad(t *testing.T) {
	e := newEnv(t, 4)
	const grace = 5 * time.Second
	opts := workerOpts{Group: "term", MaxInFlight: 1024, BatchSize: 64,
		CommitInterval: 200 * time.Millisecond, Grace: grace}
	admin := freeAddr(t)
	cfg := e.writeConfig(opts, admin)

	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	w := startProc(t, "worker-1", admin, nil, "run", "--config", cfg)
	s := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "term").stream(8000, 100, 20*time.Millisecond)
	waitMetric(t, w, "sluice_predictions_produced_total", 1500, 30*time.Second)
	// SIGTERM while events are in flight (the test fails if the worker has
	// none for 10s), so that the drain is put to the test: they must be
	// written and committed before the exit, with no duplicate.
	inFlight := waitMetric(t, w, "sluice_in_flight_events", 1, 10*time.Second)
	code, took := w.term(grace + 5*time.Second)
	t.Logf("SIGTERM with %v events in flight: exit %d after %s (grace %s)", inFlight, code, took.Round(time.Millisecond), grace)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if took > grace {
		t.Errorf("exit took %s, more than shutdown_grace %s", took, grace)
	}

	w2 := startProc(t, "worker-2", admin, nil, "run", "--config", cfg)
	s.wait(t)
	out.waitAll(t, l, 45*time.Second)
	if code, _ := w2.term(grace + 5*time.Second); code != 0 {
		t.Errorf("second worker exited %d", code)
	}
	f := out.settle(t, l)
	t.Logf("SIGTERM: %s", f)
	f.check(t, 0)
}
