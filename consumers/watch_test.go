package consumers

import (
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// TestMissingTopicsHoldFetchingUntilTheyExist: a reader whose topic, or a
// topic it watches, is missing says so and fetches nothing; it starts when
// both exist, without a restart.
func TestMissingTopicsHoldFetchingUntilTheyExist(t *testing.T) {
	k := testkit.StartKafka(t)
	ctx := testkit.Context(t, 40*time.Second)
	cfg := testReaderConfig(k.Addr, "late", "g1")
	cfg.WatchTopics, cfg.TopicCheckInterval = []string{"late-out"}, 100*time.Millisecond
	r := newTestReader(t, cfg)
	tr := NewTracker(r, 100, nil)
	got := make(chan kafka.Message, 10)
	go func() {
		for {
			m, err := tr.Next(ctx)
			if err != nil {
				return
			}
			got <- m
		}
	}()
	missing := func(want ...string) func() bool {
		return func() bool { return slices.Equal(r.Health().MissingTopics, want) }
	}
	testkit.WaitFor(t, 10*time.Second, "both topics reported missing", missing("late", "late-out"))

	k.CreateTopic(t, "late", 2)
	testkit.WaitFor(t, 10*time.Second, "only the watched topic reported missing", missing("late-out"))
	produceKeyed(t, k, "late", 5, 5)
	select {
	case m := <-got:
		t.Fatalf("fetched offset %d while late-out was missing", m.Offset)
	case <-time.After(700 * time.Millisecond):
	}

	k.CreateTopic(t, "late-out", 1)
	testkit.WaitFor(t, 10*time.Second, "no topic reported missing", missing())
	for i := 0; i < 5; i++ {
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatalf("fetched %d of 5 messages after the topics appeared", i)
		}
	}
	if h := r.Health(); !h.Joined || len(h.Partitions) != 2 {
		t.Fatalf("health after the topic appeared: %+v, want both partitions", h)
	}
}

// TestPartitionCountChangeRejoins: partitions added to the topic are
// assigned and fetched.
func TestPartitionCountChangeRejoins(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	ctx := testkit.Context(t, 40*time.Second)
	cfg := testReaderConfig(k.Addr, "features", "g1")
	cfg.TopicCheckInterval = 100 * time.Millisecond
	r := newTestReader(t, cfg)
	produceKeyed(t, k, "features", 1, 1)
	fetchN(t, ctx, r, 1)
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(k.Addr), Transport: tr}
	res, err := cl.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: "features", Count: 3}}})
	if err != nil || res.Errors["features"] != nil {
		t.Fatalf("adding partitions: %v %v", err, res)
	}
	testkit.WaitFor(t, 20*time.Second, "three partitions assigned", func() bool { return len(r.Health().Partitions) == 3 })
	wt := &kafka.Transport{} // a fresh one: tr has the topic's old layout cached
	defer wt.CloseIdleConnections()
	w := kafka.Writer{Addr: kafka.TCP(k.Addr), Topic: "features", Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond, Transport: wt}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("a")}, kafka.Message{Value: []byte("b")}, kafka.Message{Value: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	parts := map[int]bool{}
	for _, m := range fetchN(t, ctx, r, 3) {
		parts[m.Partition] = true
	}
	if len(parts) < 2 {
		t.Fatalf("messages came from partitions %v only", parts)
	}
}

// TestLagAgainstCommittedOffsets: lag counts what the group has not
// committed, not what the reader has not fetched.
func TestLagAgainstCommittedOffsets(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	produceKeyed(t, k, "features", 100, 1)
	ctx := testkit.Context(t, 20*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	tr := NewTracker(r, 1000, nil)
	ms := fetchTracked(t, ctx, tr, 100)[0]
	if got := r.Lag(); got != 100 {
		t.Fatalf("Lag with 100 fetched and none committed = %d, want 100", got)
	}
	tr.Ack(ms[:60]...)
	if err := tr.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.Lag(); got != 40 {
		t.Fatalf("Lag after committing 60 = %d, want 40", got)
	}
}

// TestPauseHoldsOnePartition: a paused partition is not fetched; the
// others are; Resume brings it back.
func TestPauseHoldsOnePartition(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 2)
	ctx := testkit.Context(t, 30*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	tr := NewTracker(r, 1000, nil)
	tr.Pause("features", 0)
	got := make(chan kafka.Message, 100)
	go func() {
		for {
			m, err := tr.Next(ctx)
			if err != nil {
				return
			}
			got <- m
		}
	}()
	testkit.WaitFor(t, 10*time.Second, "the reader to join", r.Joined)
	wt := &kafka.Transport{}
	defer wt.CloseIdleConnections()
	w := kafka.Writer{Addr: kafka.TCP(k.Addr), Topic: "features", Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond, Transport: wt}
	defer w.Close()
	msgs := make([]kafka.Message, 20)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte{byte(i)}}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	deadline := time.After(2 * time.Second)
	for done := false; !done; {
		select {
		case m := <-got:
			count[m.Partition]++
		case <-deadline:
			done = true
		}
	}
	if count[0] != 0 || count[1] != 10 {
		t.Fatalf("fetched %v while partition 0 was paused, want only partition 1's 10", count)
	}
	tr.Resume("features", 0)
	for count[0] < 10 {
		select {
		case m := <-got:
			count[m.Partition]++
		case <-ctx.Done():
			t.Fatalf("after Resume fetched %v", count)
		}
	}
}
