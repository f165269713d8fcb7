package faults

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestWorkerSIGKILLedMidStream kills `sluice run` with SIGKILL several
// times while events stream in, restarting it each time. Nothing may be
// lost, and each kill may cause at most max_in_flight duplicates: the
// events the worker had fetched but not yet committed.
func TestWorkerSIGKILLedMidStream(t *testing.T) {
	e := newEnv(t, 4)
	shortGroupTimeouts(e.kafka)
	const (
		kills       = 3
		maxInFlight = 256
		total       = 12000
	)
	opts := workerOpts{Group: "kill", MaxInFlight: maxInFlight, BatchSize: 64,
		CommitInterval: 200 * time.Millisecond, Grace: 10 * time.Second}
	admin := freeAddr(t)
	cfg := e.writeConfig(opts, admin)
	run := func(i int) *proc {
		return startProc(t, fmt.Sprintf("worker-%d", i), admin, nil, "run", "--config", cfg)
	}

	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	w := run(0)
	s := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "kill").stream(total, 50, 50*time.Millisecond)
	// The duplicates a kill causes appear after the restart, before the
	// next kill: the restarted worker redelivers from the committed offset.
	dupsBefore := 0
	perKill := func(i int) {
		f := out.settle(t, l)
		t.Logf("kill %d: %d duplicates (bound %d)", i, f.Duplicates-dupsBefore, maxInFlight)
		if d := f.Duplicates - dupsBefore; d > maxInFlight {
			t.Errorf("kill %d caused %d duplicates, more than max_in_flight %d", i, d, maxInFlight)
		}
		dupsBefore = f.Duplicates
	}
	for i := 1; i <= kills; i++ {
		// Kill while the worker is busy: it has just scored some events,
		// after a restart typically while it catches up on a backlog.
		waitMetric(t, w, "sluice_predictions_produced_total", 300, 30*time.Second)
		time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
		// Kill while events are in flight (the test fails if the worker
		// has none for 10s): a kill of an idle worker would prove nothing.
		inFlight := waitMetric(t, w, "sluice_in_flight_events", 1, 10*time.Second)
		w.kill()
		t.Logf("kill %d with %v events in flight", i, inFlight)
		if inFlight > maxInFlight {
			t.Errorf("kill %d with %v events in flight, more than max_in_flight %d", i, inFlight, maxInFlight)
		}
		if i > 1 {
			perKill(i - 1)
		}
		w = run(i)
	}
	s.wait(t)
	out.waitAll(t, l, 45*time.Second)
	if code, _ := w.term(20 * time.Second); code != 0 {
		t.Errorf("last worker exited %d after SIGTERM", code)
	}
	perKill(kills)
	f := out.settle(t, l)
	t.Logf("SIGKILL x%d: %s (bound %d per kill)", kills, f, maxInFlight)
	f.check(t, kills*maxInFlight)
}

// waitMetric waits until p's metric reaches at least v and returns the
// value read.
func waitMetric(t *testing.T, p *proc, name string, v float64, timeout time.Duration) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := p.metric(name)
		if err == nil && got >= v {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s = %v (err %v), want >= %v after %s", p.name, name, got, err, v, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
