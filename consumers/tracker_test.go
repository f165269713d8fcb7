package consumers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

func msgAt(p int, off int64) kafka.Message {
	return kafka.Message{Topic: "t", Partition: p, Offset: off}
}

// commitLocally does what a successful Commit does on the tracker's side,
// without a broker, in the generation being tracked.
func (t *Tracker) commitLocally() map[int]int64 {
	t.mu.Lock()
	seq := t.gen
	t.mu.Unlock()
	offsets, marks := t.snapshot(seq)
	t.markCommitted(marks)
	return offsets
}

// Track tracks msg as fetched in the generation being tracked (tests feed
// a Tracker without a reader).
func (t *Tracker) Track(ctx context.Context, msg kafka.Message) error {
	t.mu.Lock()
	seq := t.gen
	t.mu.Unlock()
	_, err := t.track(ctx, seq, &msg)
	return err
}

// done returns the last committable offset of partition p, -1 if none.
func (t *Tracker) doneOf(topic string, p int) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ps := t.parts[partKey{topic, p}]; ps != nil {
		return ps.done
	}
	return -1
}

func TestTrackerContiguousPrefix(t *testing.T) {
	tests := []struct {
		name     string
		tracked  []int64
		acks     []int64
		wantDone int64
		wantIn   int
	}{
		{"nothing acked", []int64{0, 1, 2}, nil, -1, 3},
		{"in order", []int64{0, 1, 2}, []int64{0, 1, 2}, 2, 0},
		{"hole at head", []int64{0, 1, 2, 3}, []int64{3, 1, 2}, -1, 4},
		{"hole in middle", []int64{0, 1, 2, 3}, []int64{0, 3, 1}, 1, 2},
		{"reverse", []int64{5, 6, 7, 8}, []int64{8, 7, 6, 5}, 8, 0},
		{"gaps in offsets", []int64{3, 7, 8, 20, 21}, []int64{8, 3, 7, 21}, 8, 2},
		{"gaps all acked", []int64{3, 7, 8, 20}, []int64{20, 8, 7, 3}, 20, 0},
		{"unknown and repeated acks ignored", []int64{10, 11}, []int64{9, 12, 11, 11, 15}, -1, 2},
		{"ack of an offset in a gap", []int64{10, 12}, []int64{11, 10}, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(nil, 100, nil)
			for _, off := range tt.tracked {
				if err := tr.Track(t.Context(), msgAt(0, off)); err != nil {
					t.Fatal(err)
				}
			}
			for _, off := range tt.acks {
				tr.Ack(msgAt(0, off))
			}
			if got := tr.doneOf("t", 0); got != tt.wantDone {
				t.Errorf("committable = %d, want %d", got, tt.wantDone)
			}
			// Acknowledged events stay in flight until a commit passes them.
			if got := tr.InFlight(); got != len(tt.tracked) {
				t.Errorf("InFlight before a commit = %d, want %d", got, len(tt.tracked))
			}
			tr.commitLocally()
			if got := tr.InFlight(); got != tt.wantIn {
				t.Errorf("InFlight after a commit = %d, want %d", got, tt.wantIn)
			}
		})
	}
}

func TestTrackerPartitionsAreIndependent(t *testing.T) {
	tr := NewTracker(nil, 100, nil)
	for off := int64(0); off < 5; off++ {
		for p := 0; p < 3; p++ {
			if err := tr.Track(t.Context(), msgAt(p, off)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tr.Ack(msgAt(1, 0), msgAt(1, 1), msgAt(2, 1), msgAt(0, 4))
	for p, want := range []int64{-1, 1, -1} {
		if got := tr.doneOf("t", p); got != want {
			t.Errorf("partition %d: committable = %d, want %d", p, got, want)
		}
	}
	// Same partition number, other topic: separate state.
	if err := tr.Track(t.Context(), kafka.Message{Topic: "u", Partition: 1, Offset: 0}); err != nil {
		t.Fatal(err)
	}
	if got := tr.doneOf("u", 1); got != -1 {
		t.Errorf("topic u: committable = %d, want -1", got)
	}
}

func TestTrackerRingGrowsAndWraps(t *testing.T) {
	tr := NewTracker(nil, 10_000, nil)
	var next int64
	for round := 0; round < 5; round++ {
		// Track 100 (past the initial ring), ack all but the first in
		// reverse, then the first.
		first := next
		for i := 0; i < 100; i++ {
			if err := tr.Track(t.Context(), msgAt(0, next)); err != nil {
				t.Fatal(err)
			}
			next += 2 // every other offset: gaps
		}
		for off := next - 2; off > first; off -= 2 {
			tr.Ack(msgAt(0, off))
		}
		if got := tr.doneOf("t", 0); got != first-2 && !(round == 0 && got == -1) {
			t.Fatalf("round %d: committable moved to %d before the head was acked", round, got)
		}
		tr.Ack(msgAt(0, first))
		if got := tr.doneOf("t", 0); got != next-2 {
			t.Fatalf("round %d: committable = %d, want %d", round, got, next-2)
		}
		tr.commitLocally()
		if tr.InFlight() != 0 {
			t.Fatalf("round %d: InFlight = %d", round, tr.InFlight())
		}
	}
}

func TestTrackerBackpressure(t *testing.T) {
	m := NewMetrics(nil)
	tr := NewTracker(nil, 3, m)
	ctx := t.Context()
	for off := int64(0); off < 3; off++ {
		if err := tr.Track(ctx, msgAt(0, off)); err != nil {
			t.Fatal(err)
		}
	}
	tracked := make(chan error, 1)
	go func() { tracked <- tr.Track(ctx, msgAt(0, 3)) }()
	expectBlocked := func(what string) {
		t.Helper()
		select {
		case err := <-tracked:
			t.Fatalf("Track returned (%v) %s", err, what)
		case <-time.After(100 * time.Millisecond):
		}
	}
	expectBlocked("while 3 of 3 were in flight")
	// An ack behind an unacked offset frees nothing: offset 1 is still not
	// committable.
	tr.Ack(msgAt(0, 1))
	tr.commitLocally()
	expectBlocked("after an ack behind the unacked head")
	// Acknowledged is not yet committed: a crash now would redeliver 0 and
	// 1, so they still count against the cap.
	tr.Ack(msgAt(0, 0))
	expectBlocked("after the head was acked but not committed")
	tr.commitLocally() // frees 0 and 1
	select {
	case err := <-tracked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Track still blocked after the head was acked and committed")
	}
	if got := tr.InFlight(); got != 2 {
		t.Errorf("InFlight = %d, want 2", got)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 2 {
		t.Errorf("sluice_in_flight_events = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.consumed); got != 4 {
		t.Errorf("sluice_events_consumed_total = %v, want 4", got)
	}

	// Full again: a cancelled context ends the wait.
	if err := tr.Track(ctx, msgAt(0, 4)); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := tr.Track(cctx, msgAt(0, 5)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Track on a full tracker with an expiring context = %v", err)
	}
	if got := tr.InFlight(); got != 3 {
		t.Errorf("InFlight after the cancelled Track = %d, want 3", got)
	}
}

func TestTrackerManyWaitersAllWake(t *testing.T) {
	tr := NewTracker(nil, 1, nil)
	ctx := t.Context()
	// A committer: slots are freed by commits.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				tr.commitLocally()
			}
		}
	}()
	if err := tr.Track(ctx, msgAt(0, 0)); err != nil {
		t.Fatal(err)
	}
	const waiters = 4
	errs := make(chan error, waiters)
	for p := 1; p <= waiters; p++ {
		go func() {
			if err := tr.Track(ctx, msgAt(p, 0)); err != nil {
				errs <- err
				return
			}
			tr.Ack(msgAt(p, 0))
			errs <- nil
		}()
	}
	tr.Ack(msgAt(0, 0))
	for range waiters {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting Track never woke")
		}
	}
}

func TestTrackerTrackAckDoNotAllocate(t *testing.T) {
	tr := NewTracker(nil, 1<<20, nil)
	ctx := context.Background()
	msgs := []kafka.Message{msgAt(0, 0), msgAt(1, 0)}
	// Warm up: create both partitions.
	for i := range msgs {
		_ = tr.Track(ctx, msgs[i])
		tr.Ack(msgs[i])
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range msgs {
			msgs[i].Offset++
			_ = tr.Track(ctx, msgs[i])
		}
		tr.Ack(msgs[1])
		tr.Ack(msgs[0])
	})
	if allocs != 0 {
		t.Errorf("Track+Ack allocate %v times per run, want 0", allocs)
	}
}

func BenchmarkTrackerTrackAck(b *testing.B) {
	tr := NewTracker(nil, 4096, nil)
	ctx := context.Background()
	var msgs [8]kafka.Message
	for p := range msgs {
		msgs[p] = msgAt(p%4, 0)
	}
	b.ReportAllocs()
	off := int64(0)
	for b.Loop() {
		for p := range msgs[:4] {
			msgs[p].Offset = off
			_ = tr.Track(ctx, msgs[p])
		}
		// Out of order within the run.
		tr.Ack(msgs[3], msgs[1], msgs[0], msgs[2])
		off++
	}
}
