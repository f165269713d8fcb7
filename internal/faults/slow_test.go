package faults

import (
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// TestSlowInference serves a model that scores a batch far more slowly
// than the demo model (at least 10×; the worker becomes inference-bound)
// and keeps a backlog in front of it for longer than the group's session
// timeout. The in-flight cap must hold (memory stays bounded), the
// member must keep its place in the group (heartbeats are not starved: the
// generation does not change) and the lag must drain to zero.
func TestSlowInference(t *testing.T) {
	e := newEnv(t, 4)
	heavy := heavyModel(t, e.sig.Width(), 2048)
	fast, slow := batchTime(t, e.onnx, e.sig, 64), batchTime(t, heavy, e.sig, 64)
	ratio := float64(slow) / float64(fast)
	t.Logf("a batch of 64 takes %s on the demo model, %s on the slow one (%.0f×)", fast, slow, ratio)
	if ratio < 10 {
		t.Fatalf("the slow model is only %.1f× slower", ratio)
	}

	const maxInFlight = 512
	w := e.startWorker(pipeline.Config{Group: "slow", MaxInFlight: maxInFlight, Batch: batch(64),
		CommitInterval: 100 * time.Millisecond}, inprocOpts{onnx: heavy, sig: e.sig})
	waitReady(t, w)
	gi := e.kafka.Cluster.GroupInfo("slow")
	if gi == nil || len(gi.Members) != 1 {
		t.Fatalf("group before: %+v", gi)
	}
	gen, member := gi.Epoch, gi.Members[0].MemberID

	// Sample the in-flight gauge and the queues in front of the stages, and
	// how long the backlog pressed against the in-flight cap.
	var mu sync.Mutex
	maxSeen, maxQueued := 0.0, 0.0
	var pressed time.Duration
	last := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			in, q := gauge(w.reg, "sluice_in_flight_events"), gauge(w.reg, "sluice_queue_depth")
			mu.Lock()
			maxSeen, maxQueued = max(maxSeen, in), max(maxQueued, q)
			if in >= maxInFlight/2 {
				pressed += time.Since(last)
			}
			last = time.Now()
			mu.Unlock()
		}
	}()

	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	// Keep a backlog of a few thousand events ahead of the worker, so that
	// it presses against the in-flight cap, until it has done so for longer
	// than the session timeout.
	start := time.Now()
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "slow")
	ctx := testkit.Context(t, 45*time.Second)
	for {
		mu.Lock()
		atCap := pressed
		mu.Unlock()
		if atCap > sessionTimeout+time.Second {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the backlog pressed against the cap for %s in 45s", atCap)
		}
		if backlog := float64(l.len()) - gauge(w.reg, "sluice_predictions_produced_total"); backlog > 3000 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err := pub.publish(ctx, 500); err != nil {
			t.Fatal(err)
		}
	}
	out.waitAll(t, l, 30*time.Second)
	out.waitCommitted(t, e, "slow", 10*time.Second)
	drained := time.Since(start)
	close(stop)
	wg.Wait()

	gi = e.kafka.Cluster.GroupInfo("slow")
	if gi == nil || gi.Epoch != gen || len(gi.Members) != 1 || gi.Members[0].MemberID != member {
		t.Errorf("group churned while inference was slow: generation %d → %+v", gen, gi)
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f := out.settle(t, l)
	t.Logf("slow inference: %s; all scored %s after the first was published, at the cap for %s; generation %d throughout, max in flight %v (cap %d), max queued %v",
		f, drained.Round(time.Millisecond), pressed.Round(time.Millisecond), gen, maxSeen, maxInFlight, maxQueued)
	if maxSeen > maxInFlight {
		t.Errorf("sluice_in_flight_events reached %v, above max_in_flight %d", maxSeen, maxInFlight)
	}
	if maxSeen < maxInFlight/2 {
		t.Errorf("sluice_in_flight_events peaked at %v: the backlog never pressed against the cap", maxSeen)
	}
	if pressed < sessionTimeout {
		t.Errorf("the backlog pressed against the cap for %s only, under the %s session timeout: heartbeats were not put to the test", pressed, sessionTimeout)
	}
	f.check(t, 0)
}
