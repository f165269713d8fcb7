package faults

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// TestRebalanceJoinAndLeave adds a second worker mid-stream and then stops
// the first one, while a watcher polls the group's committed offsets.
// Nothing may be lost and no committed offset may ever move backwards.
func TestRebalanceJoinAndLeave(t *testing.T) {
	e := newEnv(t, 6)
	const maxInFlight = 512
	cfg := pipeline.Config{Group: "rebalance", MaxInFlight: maxInFlight, CommitInterval: 100 * time.Millisecond,
		Batch: batch(64)}
	// Worker a scores with a slower model, so that when partitions move to
	// b, a is still finishing events of them after b has committed past:
	// the window in which a late commit from a would move offsets back.
	a := e.startWorker(cfg, inprocOpts{onnx: heavyModel(t, e.sig.Width(), 1024), sig: e.sig})
	waitReady(t, a)

	watch := watchCommits(e, "rebalance")
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	s := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "rebalance").stream(12000, 100, 25*time.Millisecond)

	testkit.WaitFor(t, 20*time.Second, "worker a to score", func() bool {
		return gauge(a.reg, "sluice_predictions_produced_total") >= 1000
	})
	b := e.startWorker(cfg, inprocOpts{})
	waitReady(t, b)
	testkit.WaitFor(t, 30*time.Second, "worker b to score", func() bool {
		return gauge(b.reg, "sluice_predictions_produced_total") >= 1000
	})
	if err := a.stop(); err != nil {
		t.Fatalf("worker a: %v", err)
	}
	s.wait(t)
	out.waitAll(t, l, 40*time.Second)
	out.waitCommitted(t, e, "rebalance", 20*time.Second)
	if err := b.stop(); err != nil {
		t.Fatalf("worker b: %v", err)
	}
	backwards, polls := watch.stop()
	f := out.settle(t, l)
	t.Logf("rebalance (join, then leave): %s; worker a scored %v, worker b %v; %d commit polls",
		f, gauge(a.reg, "sluice_predictions_produced_total"), gauge(b.reg, "sluice_predictions_produced_total"), polls)
	for _, m := range backwards {
		t.Error(m)
	}
	// At each rebalance a member stops fetching, waits for what it handed
	// out to be written and commits it before it rejoins (the drain), so a
	// partition moves at the offset after the last event scored: only what
	// did not finish within the drain is scored again, at most what was in
	// flight.
	f.check(t, maxInFlight)
}

// commitWatch polls a group's committed offsets and notes every one that
// moved backwards.
type commitWatch struct {
	done      chan struct{}
	wg        sync.WaitGroup
	backwards []string
	polls     int
}

func watchCommits(e *env, group string) *commitWatch {
	w := &commitWatch{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		last := map[int32]int64{}
		for {
			select {
			case <-w.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			w.polls++
			for p, off := range e.committed(group) {
				if prev, ok := last[p]; ok && off < prev {
					w.backwards = append(w.backwards, fmt.Sprintf("partition %d: committed offset moved back from %d to %d", p, prev, off))
				}
				last[p] = off
			}
		}
	}()
	return w
}

func (w *commitWatch) stop() ([]string, int) {
	close(w.done)
	w.wg.Wait()
	return w.backwards, w.polls
}
