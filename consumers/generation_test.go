package consumers

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// trackIn tracks msg as fetched in generation seq.
func trackIn(t *testing.T, tr *Tracker, seq uint64, msg kafka.Message) bool {
	t.Helper()
	ok, err := tr.track(context.Background(), seq, &msg)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func startsOf(ps []partStart) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = p.offset
	}
	return out
}

// TestTrackerGenerationEdges walks one partition through the cases of a
// new generation: kept (the group's position is where this member
// committed), started over lower down, moved on by another member, lost.
func TestTrackerGenerationEdges(t *testing.T) {
	m := NewMetrics(nil)
	tr := NewTracker(nil, 100, m)
	pa := func(p int, off int64) kafka.PartitionAssignment { return kafka.PartitionAssignment{ID: p, Offset: off} }

	// Generation 1: partition 0 from its committed offset 10, partition 1
	// with nothing committed yet.
	if got := startsOf(tr.assign(1, "t", []kafka.PartitionAssignment{pa(0, 10), pa(1, kafka.FirstOffset)})); got[0] != 10 || got[1] != kafka.FirstOffset {
		t.Fatalf("generation 1 starts at %v", got)
	}
	for off := int64(10); off < 20; off++ {
		trackIn(t, tr, 1, msgAt(0, off))
	}
	trackIn(t, tr, 1, msgAt(1, 0))
	trackIn(t, tr, 1, msgAt(1, 1))
	tr.Ack(msgAt(0, 10), msgAt(0, 11), msgAt(0, 12), msgAt(0, 15), msgAt(1, 0))
	if got := tr.commitLocally(); got[0] != 13 || got[1] != 1 {
		t.Fatalf("generation 1 committed %v, want 0→13, 1→1", got)
	}
	if got := tr.InFlight(); got != 8 { // 13..19 and 1/1
		t.Fatalf("InFlight = %d, want 8", got)
	}

	// Generation 2 keeps partition 0 at 13, where this member committed
	// it: fetching goes on at 20, nothing handed out comes again.
	// Partition 1 went to another member: its events leave the count and
	// are never committed here.
	if got := startsOf(tr.assign(2, "t", []kafka.PartitionAssignment{pa(0, 13)})); got[0] != 20 {
		t.Fatalf("generation 2 resumes partition 0 at %d, want 20", got[0])
	}
	if got := tr.InFlight(); got != 7 {
		t.Fatalf("InFlight after partition 1 was revoked = %d, want 7", got)
	}
	if trackIn(t, tr, 1, msgAt(0, 20)) {
		t.Fatal("a message fetched in generation 1 was tracked in generation 2")
	}
	if !tr.Pending(msgAt(0, 13)) || tr.Pending(msgAt(0, 15)) || tr.Pending(msgAt(1, 1)) {
		t.Fatal("Pending: want 0/13 pending, 0/15 (acked) and 1/1 (revoked) not")
	}
	tr.Ack(msgAt(1, 1)) // late: its partition is gone; nothing to commit
	trackIn(t, tr, 2, msgAt(0, 20))
	tr.Ack(msgAt(0, 13), msgAt(0, 14))
	if got := tr.commitLocally(); len(got) != 1 || got[0] != 16 {
		t.Fatalf("generation 2 committed %v, want 0→16", got)
	}

	// Generation 3 finds the group's position lower than this member's
	// (14): the partition starts over there; what was in flight leaves the
	// count, and 16 is no longer pending here (it is fetched again).
	if got := startsOf(tr.assign(3, "t", []kafka.PartitionAssignment{pa(0, 14)})); got[0] != 14 {
		t.Fatalf("generation 3 starts partition 0 at %d, want 14", got[0])
	}
	if got := tr.InFlight(); got != 0 {
		t.Fatalf("InFlight after starting over = %d, want 0", got)
	}
	if tr.Pending(msgAt(0, 16)) {
		t.Fatal("0/16 still pending after the partition started over below it")
	}
	trackIn(t, tr, 3, msgAt(0, 14))
	trackIn(t, tr, 3, msgAt(0, 15))
	// A late ack from the first delivery of 14 counts for its redelivery.
	tr.Ack(msgAt(0, 14))
	if got := tr.commitLocally(); len(got) != 1 || got[0] != 15 {
		t.Fatalf("generation 3 committed %v, want 0→15", got)
	}

	// Generation 4: another member moved the partition on to 100 in
	// between: start there.
	if got := startsOf(tr.assign(4, "t", []kafka.PartitionAssignment{pa(0, 100)})); got[0] != 100 {
		t.Fatalf("generation 4 starts partition 0 at %d, want 100", got[0])
	}
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("sluice_in_flight_events = %v, want 0", got)
	}
}

// TestTrackerNeverCommitsPastAnUnresolvedOffset drives a Tracker through
// random fetches, acks, dropped outputs, commits and generation changes
// (partitions kept, lost, won back; other members moving the group's
// position in between) and checks, at every commit, that every offset the
// commit passes was resolved (acknowledged by this member or processed by
// another): a fetched offset is never skipped. It then finishes every
// partition and checks that the group reaches the end of each.
func TestTrackerNeverCommitsPastAnUnresolvedOffset(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		simulateGenerations(t, seed)
	}
}

type delivery struct {
	seq uint64
	msg kafka.Message
}

func simulateGenerations(t *testing.T, seed uint64) {
	const parts = 3
	rng := rand.New(rand.NewPCG(seed, 7))
	tr := NewTracker(nil, 1<<20, nil)
	var (
		end      [parts]int64 // offsets 0..end-1 exist
		group    = [parts]int64{-1, -1, -1}
		resolved [parts]map[int64]bool
		pending  []delivery
		fetchAt  = map[int]int64{} // assigned partitions in the current generation
		seq      uint64
	)
	for p := range resolved {
		resolved[p] = map[int64]bool{}
	}
	commit := func() {
		for p, c := range tr.commitLocally() {
			if c < group[p] {
				t.Fatalf("seed %d: partition %d committed back from %d to %d", seed, p, group[p], c)
			}
			for o := max(group[p], 0); o < c; o++ {
				if !resolved[p][o] {
					t.Fatalf("seed %d: partition %d committed to %d past offset %d, which nobody resolved", seed, p, c, o)
				}
			}
			group[p] = c
		}
	}
	newGeneration := func(all, others bool) {
		commit() // the drain's commit, through the ending generation
		seq++
		var pas []kafka.PartitionAssignment
		for p := range parts {
			if others && rng.IntN(3) == 0 {
				// Another member had it in between, resolved some and
				// committed them.
				from := max(group[p], 0)
				to := from + rng.Int64N(end[p]-from+1)
				for o := from; o < to; o++ {
					resolved[p][o] = true
				}
				if to > from {
					group[p] = to
				}
			}
			if !all && rng.IntN(4) == 0 {
				continue
			}
			off := group[p]
			if off < 0 {
				off = kafka.FirstOffset
			}
			pas = append(pas, kafka.PartitionAssignment{ID: p, Offset: off})
		}
		starts := tr.assign(seq, "t", pas)
		clear(fetchAt)
		for i, pa := range pas {
			fetchAt[pa.ID] = max(starts[i].offset, 0)
		}
	}
	ack := func(i int) {
		d := pending[i]
		tr.Ack(d.msg)
		resolved[d.msg.Partition][d.msg.Offset] = true
		pending = append(pending[:i], pending[i+1:]...)
	}
	newGeneration(false, false)
	for range 500 {
		switch op := rng.IntN(20); {
		case op < 3:
			end[rng.IntN(parts)] += 1 + rng.Int64N(4)
		case op < 9:
			for p, at := range fetchAt {
				if at < end[p] {
					if !trackIn(t, tr, seq, msgAt(p, at)) {
						t.Fatalf("seed %d: a message of the current generation was not tracked", seed)
					}
					pending = append(pending, delivery{seq, msgAt(p, at)})
					fetchAt[p] = at + 1
					break
				}
			}
		case op < 14:
			if len(pending) > 0 {
				ack(rng.IntN(len(pending)))
			}
		case op < 15:
			// The worker drops an output whose event is no longer pending.
			if len(pending) > 0 {
				i := rng.IntN(len(pending))
				if !tr.Pending(pending[i].msg) {
					pending = append(pending[:i], pending[i+1:]...)
				}
			}
		case op < 17:
			commit()
		case op < 18:
			if seq > 1 && trackIn(t, tr, seq-1, msgAt(0, end[0])) {
				t.Fatalf("seed %d: a message of an ended generation was tracked", seed)
			}
		default:
			newGeneration(false, true)
		}
	}
	// Every output still wanted is written in the end; then one member
	// takes every partition, reads to the end and commits.
	for len(pending) > 0 {
		ack(0)
	}
	newGeneration(true, false)
	for p, at := range fetchAt {
		for ; at < end[p]; at++ {
			trackIn(t, tr, seq, msgAt(p, at))
			tr.Ack(msgAt(p, at))
			resolved[p][at] = true
		}
	}
	commit()
	for p := range parts {
		if end[p] > 0 && group[p] != end[p] {
			t.Fatalf("seed %d: partition %d ends at %d but the group committed %d", seed, p, end[p], group[p])
		}
	}
	if n := tr.InFlight(); n != 0 {
		t.Fatalf("seed %d: %d events still in flight after everything was committed", seed, n)
	}
}

// TestTrackerKeepsANeverCommittedPartition: a partition nobody has
// committed yet (the group has no offset for it) stays with this member
// across a generation change: what it fetched is not fetched again.
func TestTrackerKeepsANeverCommittedPartition(t *testing.T) {
	tr := NewTracker(nil, 100, nil)
	first := []kafka.PartitionAssignment{{ID: 0, Offset: kafka.FirstOffset}}
	if got := startsOf(tr.assign(1, "t", first)); got[0] != kafka.FirstOffset {
		t.Fatalf("generation 1 starts at %v", got)
	}
	// Nothing fetched yet: the next generation starts as configured too.
	if got := startsOf(tr.assign(2, "t", first)); got[0] != kafka.FirstOffset {
		t.Fatalf("generation 2 with nothing fetched starts at %v", got)
	}
	for off := int64(0); off < 5; off++ {
		trackIn(t, tr, 2, msgAt(0, off))
	}
	tr.Ack(msgAt(0, 0), msgAt(0, 1), msgAt(0, 2))
	if got := startsOf(tr.assign(3, "t", first)); got[0] != 5 {
		t.Fatalf("generation 3 resumes at %d, want 5", got[0])
	}
	if got := tr.InFlight(); got != 5 {
		t.Fatalf("InFlight = %d, want the 5 still tracked", got)
	}
	tr.Ack(msgAt(0, 3), msgAt(0, 4))
	if got := tr.commitLocally(); got[0] != 5 {
		t.Fatalf("committed %v, want 0→5", got)
	}
}
