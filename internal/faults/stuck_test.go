package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// refuseOutputs makes the broker refuse every produce request for the
// predictions topic (topic authorization failed: not retriable) until the
// returned handle is removed. A broker restart drops it.
func refuseOutputs(k *testkit.Kafka) *kfake.FaultHandle {
	return k.Cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: outputTopic,
		Err: kerr.TopicAuthorizationFailed, Count: -1})
}

// stuckConfig is a worker that declares a partition stuck after two
// failed retries of an output.
func stuckConfig(group string) pipeline.Config {
	return pipeline.Config{Group: group, MaxInFlight: 512, CommitInterval: 100 * time.Millisecond,
		WriteRetries: 2, Batch: batch(64)}
}

// waitStuck waits until w reports every partition in want stuck, and
// checks what it says: NotReady names each, sluice_partition_stuck holds
// each one's offset, and that offset is where the group's committed
// offset stands (nothing past it committed).
func waitStuck(t *testing.T, e *env, w *inproc, group string, want int) map[int]int64 {
	t.Helper()
	testkit.WaitFor(t, 30*time.Second, "partitions stuck", func() bool { return len(w.w.Stuck()) == want })
	stuck := map[int]int64{}
	for _, s := range w.w.Stuck() {
		stuck[s.Partition] = s.Offset
		if !strings.Contains(s.Err.Error(), "Topic Authorization Failed") || s.Output != outputTopic {
			t.Errorf("partition %d stuck writing to %s: %v", s.Partition, s.Output, s.Err)
		}
	}
	conds := 0
	for _, c := range w.w.NotReady() {
		if c.Name == pipeline.CondPartitionStuck {
			conds++
		}
	}
	if conds != want || w.w.Ready() {
		t.Errorf("NotReady has %d stuck partitions, want %d (ready %v)", conds, want, w.w.Ready())
	}
	if got := gauge(w.reg, "sluice_partition_stuck"); got != sumOf(stuck) {
		t.Errorf("sluice_partition_stuck sums to %v, want %v (%v)", got, sumOf(stuck), stuck)
	}
	committed := e.committed(group)
	for p, off := range stuck {
		if c, ok := committed[int32(p)]; ok && c > off {
			t.Errorf("partition %d committed to %d, past its stuck offset %d", p, c, off)
		}
	}
	return stuck
}

func sumOf(m map[int]int64) float64 {
	s := 0.0
	for _, v := range m {
		s += float64(v)
	}
	return s
}

// waitResumed waits until w has no stuck partition, and checks that it
// says so: ready, no sluice_partition_stuck series, a log line each.
func waitResumed(t *testing.T, w *inproc, stuck map[int]int64) {
	t.Helper()
	testkit.WaitFor(t, 60*time.Second, "every partition to resume", func() bool { return len(w.w.Stuck()) == 0 })
	testkit.WaitFor(t, 10*time.Second, "the worker ready again", w.w.Ready)
	if got := gauge(w.reg, "sluice_partition_stuck"); got != 0 {
		t.Errorf("sluice_partition_stuck = %v after every partition resumed", got)
	}
	if n := strings.Count(w.logs.String(), "partition resumed"); n < len(stuck) {
		t.Errorf("%d log lines say a partition resumed, want at least %d", n, len(stuck))
	}
}

// TestWriteFailureOutlastsRetries: the broker refuses every prediction for
// a while. Each partition with events in flight becomes stuck after the
// bounded retries (one log line, a metric with the offset, not ready, its
// committed offset held), keeps being retried, and resumes once the broker
// takes predictions again; nothing is lost or dead-lettered.
func TestWriteFailureOutlastsRetries(t *testing.T) {
	e := newEnv(t, 4)
	w := e.startWorker(stuckConfig("stuck"), inprocOpts{})
	waitReady(t, w)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "stuck")
	ctx := testkit.Context(t, 90*time.Second)
	if err := pub.publish(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 30*time.Second)
	out.waitCommitted(t, e, "stuck", 10*time.Second)

	// Fewer than max_in_flight events while outputs are refused, so that
	// every partition gets some before the cap is full of failing ones.
	fault := refuseOutputs(e.kafka)
	if err := pub.publish(ctx, 200); err != nil {
		t.Fatal(err)
	}
	stuck := waitStuck(t, e, w, "stuck", 4)
	if n := strings.Count(w.logs.String(), "partition stuck"); n != 4 {
		t.Errorf("%d log lines say a partition is stuck, want one per partition (4)", n)
	}
	retries := gauge(w.reg, "sluice_produce_retries_total")
	time.Sleep(3 * time.Second) // stuck for a while: still retried, still held
	if gauge(w.reg, "sluice_produce_retries_total") <= retries {
		t.Error("stuck outputs are not retried any more")
	}
	for p, off := range stuck {
		if c := e.committed("stuck")[int32(p)]; c != off {
			t.Errorf("partition %d committed at %d while stuck at %d", p, c, off)
		}
	}
	if n := strings.Count(w.logs.String(), "partition stuck"); n != 4 {
		t.Errorf("%d log lines say a partition is stuck after 3s more, want still 4", n)
	}
	t.Logf("stuck at %v; %v produce retries, %v events in flight", stuck, gauge(w.reg, "sluice_produce_retries_total"), gauge(w.reg, "sluice_in_flight_events"))

	fault.Remove()
	waitResumed(t, w, stuck)
	out.waitAll(t, l, 30*time.Second)
	out.waitCommitted(t, e, "stuck", 20*time.Second)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f := out.settle(t, l)
	t.Logf("write failure outlasting retries: %s", f)
	f.check(t, 512)
}

// TestBrokerRestartDuringStuckPartition: partitions are stuck when the
// broker restarts under the worker; they stay stuck (the refusal is put
// back at once), the worker rejoins holding them, and once the broker
// takes predictions again everything is delivered.
func TestBrokerRestartDuringStuckPartition(t *testing.T) {
	e := newEnv(t, 4, kfake.DataDir(t.TempDir()))
	w := e.startWorker(stuckConfig("stuck-restart"), inprocOpts{})
	waitReady(t, w)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "stuckrestart")
	ctx := testkit.Context(t, 120*time.Second)
	if err := pub.publish(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 30*time.Second)
	refuseOutputs(e.kafka)
	if err := pub.publish(ctx, 200); err != nil {
		t.Fatal(err)
	}
	stuck := waitStuck(t, e, w, "stuck-restart", 4)

	e.kafka.Restart(t, time.Second)
	fault := refuseOutputs(e.kafka)
	testkit.WaitFor(t, 30*time.Second, "the worker back in its group", func() bool { return w.w.Health().Joined })
	time.Sleep(2 * time.Second)
	after := waitStuck(t, e, w, "stuck-restart", 4)
	for p, off := range stuck {
		if after[p] != off {
			t.Errorf("partition %d stuck at %d before the restart, %d after", p, off, after[p])
		}
	}
	if err := pub.publish(ctx, 500); err != nil {
		t.Fatal(err)
	}
	fault.Remove()
	waitResumed(t, w, stuck)
	out.waitAll(t, l, 40*time.Second)
	out.waitCommitted(t, e, "stuck-restart", 20*time.Second)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f := out.settle(t, l)
	t.Logf("broker restart during stuck partitions: %s", f)
	f.check(t, 512)
}

// TestRebalanceDuringStuckPartition: a second worker joins while the first
// has stuck partitions. The first drains what it can within the drain
// time and leaves the stuck events uncommitted; the partitions that move
// are fetched again by the second from the stuck offsets (it gets stuck
// there too); no committed offset passes a stuck event; once the broker
// takes predictions again both deliver everything.
func TestRebalanceDuringStuckPartition(t *testing.T) {
	e := newEnv(t, 4)
	a := e.startWorker(stuckConfig("stuck-rebalance"), inprocOpts{})
	waitReady(t, a)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "stuckrebalance")
	ctx := testkit.Context(t, 120*time.Second)
	if err := pub.publish(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 30*time.Second)
	out.waitCommitted(t, e, "stuck-rebalance", 10*time.Second)
	fault := refuseOutputs(e.kafka)
	if err := pub.publish(ctx, 200); err != nil {
		t.Fatal(err)
	}
	stuck := waitStuck(t, e, a, "stuck-rebalance", 4)
	watch := watchCommits(e, "stuck-rebalance")

	b := e.startWorker(stuckConfig("stuck-rebalance"), inprocOpts{})
	testkit.WaitFor(t, 40*time.Second, "both workers holding two partitions each", func() bool {
		return len(a.w.Health().Partitions) == 2 && len(b.w.Health().Partitions) == 2
	})
	testkit.WaitFor(t, 30*time.Second, "both workers stuck on their partitions", func() bool {
		return len(a.w.Stuck()) == 2 && len(b.w.Stuck()) == 2
	})
	for _, w := range []*inproc{a, b} {
		for _, s := range w.w.Stuck() {
			if s.Offset != stuck[s.Partition] {
				t.Errorf("partition %d stuck at %d after the rebalance, at %d before", s.Partition, s.Offset, stuck[s.Partition])
			}
		}
	}
	for p, off := range stuck {
		if c := e.committed("stuck-rebalance")[int32(p)]; c != off {
			t.Errorf("partition %d committed at %d, stuck at %d", p, c, off)
		}
	}
	fault.Remove()
	waitResumed(t, a, nil)
	waitResumed(t, b, nil)
	out.waitAll(t, l, 40*time.Second)
	out.waitCommitted(t, e, "stuck-rebalance", 20*time.Second)
	for _, w := range []*inproc{a, b} {
		if err := w.stop(); err != nil {
			t.Fatal(err)
		}
	}
	backwards, _ := watch.stop()
	for _, m := range backwards {
		t.Error(m)
	}
	f := out.settle(t, l)
	t.Logf("rebalance during stuck partitions: %s", f)
	f.check(t, 512)
}
