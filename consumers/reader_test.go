package consumers

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// TestReaderResumesAfterCommittedPrefix acks out of order, commits, closes,
// and checks that a new reader in the group gets exactly the messages after
// each partition's committed prefix: the acked ones behind a hole come
// again, nothing before the hole does.
func TestReaderResumesAfterCommittedPrefix(t *testing.T) {
	const n = 200
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 4)
	produceKeyed(t, k, "features", n, 40)
	ctx := testkit.Context(t, 25*time.Second)

	r1 := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	tr := NewTracker(r1, n, nil)
	byPart := fetchTracked(t, ctx, tr, n)
	if len(byPart) != 4 {
		t.Fatalf("messages landed on %d partitions, want 4", len(byPart))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	wantNext := map[int]int64{}           // first offset the next reader must see
	wantAgain := map[int]map[int64]bool{} // offsets it must see again
	var acks []kafka.Message
	for p, ms := range byPart {
		hole := len(ms) / 2
		wantNext[p] = ms[hole].Offset
		wantAgain[p] = map[int64]bool{}
		for i, m := range ms {
			if i == hole {
				continue
			}
			acks = append(acks, m)
			if i > hole {
				wantAgain[p][m.Offset] = true
			}
		}
		wantAgain[p][ms[hole].Offset] = true
	}
	rng.Shuffle(len(acks), func(i, j int) { acks[i], acks[j] = acks[j], acks[i] })
	for _, m := range acks {
		tr.Ack(m)
	}
	if err := tr.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	r2 := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	remaining := 0
	for _, s := range wantAgain {
		remaining += len(s)
	}
	first := map[int]int64{}
	for _, m := range fetchN(t, ctx, r2, remaining) {
		if _, ok := first[m.Partition]; !ok {
			first[m.Partition] = m.Offset
		}
		if !wantAgain[m.Partition][m.Offset] {
			t.Errorf("partition %d offset %d delivered again but was committed", m.Partition, m.Offset)
		}
		delete(wantAgain[m.Partition], m.Offset)
	}
	if !equalOffsets(first, wantNext) {
		t.Errorf("resumed at %v, want %v", first, wantNext)
	}
	// And nothing more.
	qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if m, err := r2.Fetch(qctx); err == nil {
		t.Errorf("unexpected extra message p%d@%d", m.Partition, m.Offset)
	}
}

func TestTwoReadersShareTheGroup(t *testing.T) {
	const n = 400
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 4)
	ctx := testkit.Context(t, 25*time.Second)

	type fetched struct {
		reader int
		msg    kafka.Message
	}
	got := make(chan fetched, n)
	readAll := func(id int, r *Reader) {
		for {
			m, err := r.Fetch(ctx)
			if err != nil {
				return // closed at cleanup
			}
			got <- fetched{id, m}
		}
	}
	// The reader joins the group on the first Fetch.
	a := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	go readAll(0, a)
	if _, err := k.Cluster.WaitGroupStable(ctx, "g1", 1); err != nil {
		t.Fatal(err)
	}
	b := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	go readAll(1, b)
	gi, err := k.Cluster.WaitGroupInfo(ctx, "g1", func(g *kfake.GroupInfo) bool {
		return g != nil && g.State == "Stable" && len(g.Members) == 2 && g.NumAssigned() == 4
	})
	if err != nil {
		t.Fatalf("group never settled with two members: %+v", gi)
	}
	for _, m := range gi.Members {
		if got := m.NumAssigned(); got != 2 {
			t.Fatalf("member %s has %d partitions, want 2", m.MemberID, got)
		}
	}

	produceKeyed(t, k, "features", n, 100)
	owner := map[int]int{} // partition → reader
	seen := map[[2]int64]bool{}
	for len(seen) < n {
		select {
		case f := <-got:
			if o, ok := owner[f.msg.Partition]; ok && o != f.reader {
				t.Fatalf("partition %d read by both readers", f.msg.Partition)
			}
			owner[f.msg.Partition] = f.reader
			seen[[2]int64{int64(f.msg.Partition), f.msg.Offset}] = true
		case <-ctx.Done():
			t.Fatalf("got %d of %d messages", len(seen), n)
		}
	}
	per := [2]int{}
	for _, r := range owner {
		per[r]++
	}
	if per != [2]int{2, 2} {
		t.Fatalf("partitions per reader %v, want [2 2] (owners %v)", per, owner)
	}
}

func TestReaderAfterClose(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	r, err := NewReader(testReaderConfig(k.Addr, "features", "g1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := testkit.Context(t, 5*time.Second)
	if _, err := r.Fetch(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Fetch after Close = %v, want ErrClosed", err)
	}
	if err := r.Commit(ctx, kafka.Message{Topic: "features", Offset: 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
}
