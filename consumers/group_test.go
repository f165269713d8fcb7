package consumers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// TestGenerationComesFromTheGroupAPI: the generation and member id the
// reader reports, and every commit it sends, are the coordinator's own,
// through a rebalance.
func TestGenerationComesFromTheGroupAPI(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 4)
	produceKeyed(t, k, "features", 40, 20)
	ctx := testkit.Context(t, 30*time.Second)

	var mu sync.Mutex
	var commits []*kmsg.OffsetCommitRequest
	k.Cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		mu.Lock()
		commits = append(commits, req.(*kmsg.OffsetCommitRequest))
		mu.Unlock()
		return nil, nil, false
	})

	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	tr := NewTracker(r, 100, nil)
	ms := fetchTracked(t, ctx, tr, 40)
	matches := func() bool {
		gi, h := k.Cluster.GroupInfo("g1"), r.Health()
		return gi != nil && gi.State == "Stable" && len(gi.Members) == 1 && h.Joined &&
			h.GenerationID == gi.Epoch && h.MemberID == gi.Members[0].MemberID
	}
	testkit.WaitFor(t, 10*time.Second, "the reader's generation to match the coordinator's", matches)
	first := r.Health()
	if r.Generation() != 1 || len(first.Partitions) != 4 {
		t.Fatalf("generation %d with partitions %v, want 1 with all 4", r.Generation(), first.Partitions)
	}
	for _, p := range ms {
		tr.Ack(p...)
	}
	if err := tr.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// A second member: a new generation, for both.
	r2 := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	go func() { _, _ = r2.Fetch(ctx) }()
	go func() { _, _ = tr.Next(ctx) }()
	testkit.WaitFor(t, 20*time.Second, "the rebalance", func() bool {
		gi, h := k.Cluster.GroupInfo("g1"), r.Health()
		return gi != nil && gi.State == "Stable" && len(gi.Members) == 2 && h.Joined && h.GenerationID == gi.Epoch
	})
	if second := r.Health(); second.GenerationID <= first.GenerationID || second.MemberID != first.MemberID || r.Generation() < 2 {
		t.Fatalf("after the rebalance: %+v (reader generation %d), before: %+v", second, r.Generation(), first)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(commits) == 0 {
		t.Fatal("no commit reached the broker")
	}
	for _, c := range commits {
		if c.Generation != first.GenerationID || c.MemberID != first.MemberID {
			t.Errorf("a commit carried generation %d member %s, want %d %s", c.Generation, c.MemberID, first.GenerationID, first.MemberID)
		}
	}
}

// TestCommitThroughAnEndedGenerationIsRefused: once the group has moved on,
// a commit through the old generation does not reach the group's offsets.
func TestCommitThroughAnEndedGenerationIsRefused(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 2)
	produceKeyed(t, k, "features", 20, 10)
	ctx := testkit.Context(t, 30*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	fetchN(t, ctx, r, 20)
	old := r.current()
	if old == nil {
		t.Fatal("no generation after fetching")
	}
	r2 := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	go func() { _, _ = r2.Fetch(ctx) }()
	go func() { _, _ = r.Fetch(ctx) }()
	testkit.WaitFor(t, 20*time.Second, "the rebalance", func() bool {
		g := r.current()
		return g != nil && g != old && r2.Joined()
	})
	err := r.commitOffsets(ctx, old, map[int]int64{0: 1000, 1: 1000})
	if err == nil {
		t.Fatal("a commit through the ended generation succeeded")
	}
	for p, off := range committed(k, "g1", "features") {
		if off == 1000 {
			t.Fatalf("partition %d committed to 1000 through an ended generation", p)
		}
	}
	t.Logf("refused: %v", err)
}

// TestRebalanceDrainsBeforeRejoining: when a second member joins, the first
// stops fetching, waits for what it handed out to be acknowledged and
// commits it in the generation that fetched it, so nothing is fetched
// again by either member.
func TestRebalanceDrainsBeforeRejoining(t *testing.T) {
	const n = 200
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 4)
	produceKeyed(t, k, "features", n, 50)
	ctx := testkit.Context(t, 40*time.Second)
	r1 := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	tr1 := NewTracker(r1, n, nil)
	byPart := fetchTracked(t, ctx, tr1, n)

	// Acknowledge only once the rebalance has begun (the first
	// generation has stopped fetching), a little later.
	gen1 := r1.current()
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for r1.liveSeq.Load() == gen1.seq && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		for _, ms := range byPart {
			tr1.Ack(ms...)
		}
	}()
	r2 := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	again := make(chan kafka.Message, n)
	readAll := func(next func(context.Context) (kafka.Message, error)) {
		for {
			m, err := next(ctx)
			if err != nil {
				return
			}
			again <- m
		}
	}
	go readAll(r2.Fetch)
	go readAll(tr1.Next)
	testkit.WaitFor(t, 20*time.Second, "both members in a new generation", func() bool {
		g := r1.current()
		return g != nil && g != gen1 && r2.Joined()
	})
	<-acked
	want := map[int]int64{}
	for p, ms := range byPart {
		want[p] = ms[len(ms)-1].Offset + 1
	}
	if got := committed(k, "g1", "features"); !equalOffsets(got, want) {
		t.Fatalf("committed %v after the drain, want %v", got, want)
	}
	select {
	case m := <-again:
		t.Fatalf("partition %d offset %d was fetched again after the drain", m.Partition, m.Offset)
	case <-time.After(time.Second):
	}
	if got := tr1.InFlight(); got != 0 {
		t.Errorf("InFlight after the drain = %d, want 0", got)
	}
}

// TestUnacknowledgedOffsetSurvivesGenerationChanges is the loss the issue
// found: an event that is never acknowledged (its dead letter cannot be
// written), then a broker restart and a rebalance under the reader. The
// group's committed offset must never pass it until someone acknowledges
// it, whoever holds the partition; then the group reaches the end.
func TestUnacknowledgedOffsetSurvivesGenerationChanges(t *testing.T) {
	const n, stuck = 100, 10
	k := testkit.StartKafka(t, kfake.DataDir(t.TempDir()))
	k.CreateTopic(t, "features", 1)
	produceKeyed(t, k, "features", 60, 1)
	ctx := testkit.Context(t, 60*time.Second)

	var resolved atomic.Bool // offset stuck was acknowledged by someone
	var passed atomic.Int64  // a committed offset past stuck seen before that
	passed.Store(-1)
	var restarting sync.Mutex // held while the broker restarts: no polls
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(5 * time.Millisecond):
			}
			restarting.Lock()
			if c, ok := committed(k, "g1", "features")[0]; ok && c > stuck && !resolved.Load() {
				passed.Store(c)
			}
			restarting.Unlock()
		}
	}()
	defer func() { close(stopWatch); <-watched }()

	// r1 acknowledges everything it gets except offset stuck.
	type member struct {
		r  *Reader
		tr *Tracker
	}
	var holding sync.Map // *Tracker → the stuck message it holds
	run := func(m member) {
		go func() { _ = m.tr.RunCommitter(ctx, 50*time.Millisecond) }()
		for {
			msg, err := m.tr.Next(ctx)
			if err != nil {
				return
			}
			if msg.Offset == stuck {
				holding.Store(m.tr, msg)
				continue
			}
			m.tr.Ack(msg)
		}
	}
	newMember := func() member {
		r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
		return member{r, NewTracker(r, 1000, nil)}
	}
	m1 := newMember()
	go run(m1)
	testkit.WaitFor(t, 20*time.Second, "everything but the stuck offset committed", func() bool {
		_, held := holding.Load(m1.tr)
		return held && committed(k, "g1", "features")[0] == stuck
	})

	restarting.Lock()
	k.Restart(t, 500*time.Millisecond)
	restarting.Unlock()
	testkit.WaitFor(t, 30*time.Second, "the member back in a generation after the restart", func() bool {
		return m1.r.Generation() >= 2 && m1.r.Joined()
	})
	produceKeyed(t, k, "features", 20, 1) // fetched in the new generation
	m2 := newMember()
	go run(m2)
	testkit.WaitFor(t, 30*time.Second, "two members after the rebalance", func() bool {
		gi := k.Cluster.GroupInfo("g1")
		return gi != nil && gi.State == "Stable" && len(gi.Members) == 2
	})
	produceKeyed(t, k, "features", 20, 1)
	time.Sleep(time.Second)
	if c := committed(k, "g1", "features")[0]; c != stuck {
		t.Fatalf("committed %d with offset %d unacknowledged, want %d", c, stuck, stuck)
	}
	// Whoever holds the stuck event now writes it.
	resolved.Store(true)
	holding.Range(func(tr, msg any) bool { tr.(*Tracker).Ack(msg.(kafka.Message)); return true })
	testkit.WaitFor(t, 20*time.Second, "the group to reach the end", func() bool {
		return committed(k, "g1", "features")[0] == n
	})
	if c := passed.Load(); c >= 0 {
		t.Fatalf("the group committed %d past the unacknowledged offset %d", c, stuck)
	}
}

// TestReaderAfterCloseRefusesCommits complements TestReaderAfterClose with
// a tracker: Next and Commit report the reader closed.
func TestTrackerAfterClose(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	r, err := NewReader(testReaderConfig(k.Addr, "features", "g1"))
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(r, 10, nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(testkit.Context(t, 5*time.Second)); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
	if err := tr.Commit(t.Context()); err != nil {
		t.Errorf("Commit with nothing to commit after Close = %v", err)
	}
}
