package faults

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// TestBrokerRestartWhileWorkerRuns stops the broker while the worker works
// through a backlog and starts it again on the same port and data dir. The
// worker must carry on by itself: every event scored, and the committed
// offsets reach the end of the input (failed commits retried with the
// latest position).
func TestBrokerRestartWhileWorkerRuns(t *testing.T) {
	e := newEnv(t, 4, kfake.DataDir(t.TempDir()))
	const maxInFlight = 512
	cfg := pipeline.Config{Group: "restart", MaxInFlight: maxInFlight, CommitInterval: 100 * time.Millisecond,
		Batch: batch(64)}
	w := e.startWorker(cfg, inprocOpts{})
	waitReady(t, w)

	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "restart")
	ctx := testkit.Context(t, 50*time.Second)
	if err := pub.publish(ctx, 4000); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 20*time.Second, "first predictions", func() bool {
		return gauge(w.reg, "sluice_predictions_produced_total") >= 300
	})
	before := gauge(w.reg, "sluice_predictions_produced_total")
	e.kafka.Restart(t, 2*time.Second)
	up := time.Now()
	testkit.WaitFor(t, 30*time.Second, "the worker to score again after the restart", func() bool {
		return gauge(w.reg, "sluice_predictions_produced_total") > before
	})
	t.Logf("broker down 2s after %v predictions; scoring again %s after it was back",
		before, time.Since(up).Round(time.Millisecond))
	if err := pub.publish(ctx, 4000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 40*time.Second)
	out.waitCommitted(t, e, "restart", 20*time.Second)
	t.Logf("commit errors (retried): %v, produce retries: %v",
		gauge(w.reg, "sluice_commit_errors_total"), gauge(w.reg, "sluice_produce_retries_total"))
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f := out.settle(t, l)
	t.Logf("broker restart: %s", f)
	// The group re-forms with this member holding the same partitions at
	// the offsets it committed, so it keeps what it had in flight and
	// fetches nothing again; a produce request the broker wrote but could
	// not acknowledge before it stopped is written again by the writer,
	// and those are events in flight: at most max_in_flight duplicates.
	f.check(t, maxInFlight)
}

func batch(size int) inference.BatchConfig {
	return inference.BatchConfig{MaxBatchSize: size, MaxDelay: 2 * time.Millisecond}
}
