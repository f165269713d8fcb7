package faults

import (
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// oversize is the record: just under max_record_bytes (1 MiB), so
// it is read and dead-lettered as bad input, and its dead letter, headers
// added, is over the 1 MiB the dead-letter topic takes.
const oversize = 1_048_400

// checkOversizedDeadLetter checks the one dead letter: the oversized event's,
// with the original size and SHA-256 in headers.
func checkOversizedDeadLetter(t *testing.T, out *outputs, id string) {
	t.Helper()
	info := out.info(id)
	if info.Class != "bad_magic" || info.OriginalSize != oversize || info.SourceTopic != inputTopic {
		t.Errorf("the oversized event's dead letter: %+v, want class bad_magic, original size %d", info, oversize)
	}
}

// TestOversizedRecord: a record whose dead letter would exceed what the
// dead-letter topic takes is dead-lettered with a prefix of its value and
// its original size and SHA-256; it holds up nothing.
//
// It also checks the acknowledgement the worker asks for: every produce
// request of a prediction or a dead letter asks for acks=all (-1).
func TestOversizedRecord(t *testing.T) {
	e := newEnv(t, 4)
	acks := watchAcks(e.kafka)
	w := e.startWorker(pipeline.Config{Group: "oversize", MaxInFlight: 512, CommitInterval: 100 * time.Millisecond,
		Batch: batch(64)}, inprocOpts{})
	waitReady(t, w)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "oversize")
	ctx := testkit.Context(t, 60*time.Second)
	if err := pub.publish(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	id, sha, err := pub.publishOversized(ctx, oversize)
	if err != nil {
		t.Fatal(err)
	}
	out.expectPrefix(sha, id)
	if err := pub.publish(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 30*time.Second)
	out.waitCommitted(t, e, "oversize", 10*time.Second)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f := out.settle(t, l)
	t.Logf("oversized record: %s", f)
	f.checkDeadLetters(t, 0, 1)
	checkOversizedDeadLetter(t, out, id)
	if n := deadLetters(w, "bad_magic"); n != 1 {
		t.Errorf(`sluice_dead_letters_total{reason="bad_magic"} = %v, want 1`, n)
	}
	if r := gauge(w.reg, "sluice_produce_retries_total"); r != 0 {
		t.Errorf("sluice_produce_retries_total = %v: the dead letter was not made to fit at once", r)
	}
	for _, topic := range []string{outputTopic, dlqTopic} {
		n, weaker := acks.of(topic)
		if n == 0 || weaker != 0 {
			t.Errorf("%s: %d produce requests, %d of them with acks other than all", topic, n, weaker)
		}
	}
}

// produceAcks counts the produce requests the broker gets, by topic, and
// those that ask for less than acks=all.
type produceAcks struct {
	mu     sync.Mutex
	n      map[string]int
	weaker map[string]int
}

func watchAcks(k *testkit.Kafka) *produceAcks {
	p := &produceAcks{n: map[string]int{}, weaker: map[string]int{}}
	k.Cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		p.mu.Lock()
		for _, t := range pr.Topics {
			p.n[t.Topic]++
			if pr.Acks != -1 {
				p.weaker[t.Topic]++
			}
		}
		p.mu.Unlock()
		return nil, nil, false
	})
	return p
}

func (p *produceAcks) of(topic string) (n, weaker int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[topic], p.weaker[topic]
}

// TestOversizedRecordThenBrokerRestartThenRebalance replays the issue's
// loss: an oversized record, the broker restarted under the worker right
// after, then a second worker joining, all while events stream in. Every
// event gets a prediction or (the oversized one) a dead letter.
func TestOversizedRecordThenBrokerRestartThenRebalance(t *testing.T) {
	e := newEnv(t, 4, kfake.DataDir(t.TempDir()))
	const maxInFlight = 512
	cfg := pipeline.Config{Group: "issue12", MaxInFlight: maxInFlight, CommitInterval: 100 * time.Millisecond,
		Batch: batch(64)}
	a := e.startWorker(cfg, inprocOpts{})
	waitReady(t, a)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "issue12")
	ctx := testkit.Context(t, 120*time.Second)
	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	id, sha, err := pub.publishOversized(ctx, oversize)
	if err != nil {
		t.Fatal(err)
	}
	out.expectPrefix(sha, id)
	if err := pub.publish(ctx, 500); err != nil {
		t.Fatal(err)
	}
	e.kafka.Restart(t, time.Second)
	before := gauge(a.reg, "sluice_predictions_produced_total")
	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 30*time.Second, "worker a scoring after the restart", func() bool {
		return gauge(a.reg, "sluice_predictions_produced_total") > before
	})
	b := e.startWorker(cfg, inprocOpts{})
	s := pub.stream(4000, 100, 25*time.Millisecond)
	testkit.WaitFor(t, 40*time.Second, "worker b to score", func() bool {
		return gauge(b.reg, "sluice_predictions_produced_total") >= 500
	})
	s.wait(t)
	out.waitAll(t, l, 60*time.Second)
	out.waitCommitted(t, e, "issue12", 20*time.Second)
	for _, w := range []*inproc{a, b} {
		if err := w.stop(); err != nil {
			t.Fatal(err)
		}
	}
	f := out.settle(t, l)
	t.Logf("oversized record, broker restart, rebalance: %s; worker a scored %v, b %v", f,
		gauge(a.reg, "sluice_predictions_produced_total"), gauge(b.reg, "sluice_predictions_produced_total"))
	// The broker dies under the worker while its outputs are in flight:
	// the worker cannot commit them in that generation, and when worker b
	// joins as the group forms again, the partitions that move to b are
	// fetched again from the last commit (at most max_in_flight events).
	// A produce request the broker appended but could not acknowledge
	// before it stopped is written again by a's writer as well: an event
	// of such a request can be written three times. So the bound of this
	// combination is 2 × max_in_flight.
	f.checkDeadLetters(t, 2*maxInFlight, 1)
	checkOversizedDeadLetter(t, out, id)
}
