package consumers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// fetchTracked fetches n messages through tr, returning them by partition
// in fetch order.
func fetchTracked(t *testing.T, ctx context.Context, tr *Tracker, n int) map[int][]kafka.Message {
	t.Helper()
	byPart := map[int][]kafka.Message{}
	for i := 0; i < n; i++ {
		m, err := tr.Next(ctx)
		if err != nil {
			t.Fatalf("fetched %d of %d: %v", i, n, err)
		}
		byPart[m.Partition] = append(byPart[m.Partition], m)
	}
	return byPart
}

func TestTrackerCommitsContiguousPrefix(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 4)
	produceKeyed(t, k, "features", 80, 16)
	ctx := testkit.Context(t, 20*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	m := NewMetrics(nil)
	tr := NewTracker(r, 1000, m)
	byPart := fetchTracked(t, ctx, tr, 80)

	// Per partition ack everything except the message at index 2, in
	// reverse order.
	want := map[int]int64{}
	for p, ms := range byPart {
		if len(ms) < 4 {
			t.Fatalf("partition %d got only %d messages; keys did not spread", p, len(ms))
		}
		for i := len(ms) - 1; i >= 0; i-- {
			if i != 2 {
				tr.Ack(ms[i])
			}
		}
		want[p] = ms[2].Offset // next to read: the unacked one
	}
	if err := tr.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := committed(k, "g1", "features"); !equalOffsets(got, want) {
		t.Fatalf("committed %v, want %v", got, want)
	}
	// Nothing moved: no commit request.
	if err := tr.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.commits); got != 1 {
		t.Errorf("sluice_commits_total = %v, want 1", got)
	}

	for p, ms := range byPart {
		tr.Ack(ms[2])
		want[p] = ms[len(ms)-1].Offset + 1
	}
	if err := tr.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := committed(k, "g1", "features"); !equalOffsets(got, want) {
		t.Fatalf("committed %v, want %v", got, want)
	}
	for p, off := range want {
		g := m.committed.WithLabelValues("features", itoa(p))
		if got := testutil.ToFloat64(g); got != float64(off) {
			t.Errorf("sluice_committed_offset{partition=%d} = %v, want %d", p, got, off)
		}
	}
}

func TestTrackerCommitRetriesWithLatestPosition(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	produceKeyed(t, k, "features", 10, 10)
	ctx := testkit.Context(t, 20*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	m := NewMetrics(nil)
	tr := NewTracker(r, 100, m)
	ms := fetchTracked(t, ctx, tr, 10)[0]

	tr.Ack(ms[:4]...)
	// kafka-go tries a commit three times before CommitMessages fails.
	failCommits(k, 3)
	if err := tr.Commit(ctx); !errors.Is(err, kafka.GroupLoadInProgress) {
		t.Fatalf("Commit while the broker refuses = %v", err)
	}
	if got := testutil.ToFloat64(m.commitErrors); got != 1 {
		t.Errorf("sluice_commit_errors_total = %v, want 1", got)
	}
	if _, ok := committed(k, "g1", "features")[0]; ok {
		t.Fatal("an offset was committed while the broker refused")
	}
	// More acks arrive; the retry commits the newest contiguous position.
	tr.Ack(ms[4:7]...)
	if err := tr.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := committed(k, "g1", "features")[0]; got != ms[6].Offset+1 {
		t.Fatalf("committed %d, want %d", got, ms[6].Offset+1)
	}
}

func TestRunCommitterSurvivesBrokerRestart(t *testing.T) {
	k := testkit.StartKafka(t, kfakeDataDir(t))
	k.CreateTopic(t, "features", 1)
	produceKeyed(t, k, "features", 10, 10)
	ctx := testkit.Context(t, 25*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	m := NewMetrics(nil)
	tr := NewTracker(r, 100, m)
	ms := fetchTracked(t, ctx, tr, 10)[0]

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tr.RunCommitter(runCtx, 50*time.Millisecond) }()

	failCommits(k, 3) // the first periodic commit fails; the loop goes on
	tr.Ack(ms[:3]...)
	waitCommitted(t, ctx, k, "g1", ms[2].Offset+1)
	if got := testutil.ToFloat64(m.commitErrors); got < 1 {
		t.Errorf("sluice_commit_errors_total = %v after a refused commit", got)
	}

	k.Restart(t, 300*time.Millisecond)
	tr.Ack(ms[3:8]...)
	// Commits fail until kafka-go has rejoined the group; the committer
	// keeps the position and gets there.
	waitCommitted(t, ctx, k, "g1", ms[7].Offset+1)

	tr.Ack(ms[8:]...)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("RunCommitter: %v", err)
	}
	// The final commit on exit took the last acks.
	if got := committed(k, "g1", "features")[0]; got != ms[9].Offset+1 {
		t.Fatalf("after exit committed %d, want %d", got, ms[9].Offset+1)
	}
}

// failCommits makes the broker refuse the next n OffsetCommit requests
// with COORDINATOR_LOAD_IN_PROGRESS (a retriable error).
func failCommits(k *testkit.Kafka, n int) {
	k.Cluster.ControlKey(int16(kmsg.OffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if n == 0 {
			k.Cluster.DropControl()
			return nil, nil, false
		}
		n--
		k.Cluster.KeepControl()
		req := kreq.(*kmsg.OffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

func waitCommitted(t *testing.T, ctx context.Context, k *testkit.Kafka, group string, want int64) {
	t.Helper()
	for {
		if got, ok := committed(k, group, "features")[0]; ok && got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("offset %d never committed (have %v)", want, committed(k, group, "features"))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestTrackerCommitAcrossCompactionGaps(t *testing.T) {
	k := testkit.StartKafka(t)
	if err := k.Cluster.CreateTopic("compacted", 1, map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	// One write per batch, keys repeating: compaction drops the older
	// records of each key and leaves holes in the offsets.
	const keys = "abacbdeef" // survivors: 2 3 4 5 7 8
	for i := range len(keys) {
		produceOne(t, k, "compacted", kafka.Message{Key: []byte{keys[i]}, Value: []byte{byte(i)}})
	}
	k.Cluster.Compact()

	ctx := testkit.Context(t, 20*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "compacted", "g1"))
	tr := NewTracker(r, 100, nil)
	var ms []kafka.Message
	for {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		m, err := tr.Next(fctx)
		cancel()
		if err != nil {
			break // drained
		}
		ms = append(ms, m)
		if m.Offset == int64(len(keys)-1) {
			break
		}
	}
	gaps := 0
	for i := 1; i < len(ms); i++ {
		if ms[i].Offset != ms[i-1].Offset+1 {
			gaps++
		}
	}
	if gaps == 0 || len(ms) >= len(keys) {
		t.Fatalf("compaction left no gaps: offsets %v", offsetsOf(ms))
	}
	for i := len(ms) - 1; i >= 0; i-- {
		tr.Ack(ms[i])
	}
	if err := tr.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := committed(k, "g1", "compacted")[0]; got != int64(len(keys)) {
		t.Fatalf("committed %d after offsets %v, want %d", got, offsetsOf(ms), len(keys))
	}
}

func TestRunCommitterRejectsBadInterval(t *testing.T) {
	r, err := NewReader(testReaderConfig("127.0.0.1:1", "features", "g1"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := NewTracker(r, 1, nil).RunCommitter(t.Context(), 0); err == nil {
		t.Fatal("RunCommitter with a zero interval returned nil")
	}
}

// TestRunCommitterCommitsEarlyAtHalfTheCap: with a long interval, a tracker
// whose cap is half full of acknowledged events commits them at once, and
// the commit frees their slots for Track.
func TestRunCommitterCommitsEarlyAtHalfTheCap(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 1)
	produceKeyed(t, k, "features", 8, 8)
	ctx := testkit.Context(t, 20*time.Second)
	r := newTestReader(t, testReaderConfig(k.Addr, "features", "g1"))
	tr := NewTracker(r, 8, nil)
	ms := fetchTracked(t, ctx, tr, 8)[0]

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tr.RunCommitter(runCtx, time.Hour) }()
	defer func() { stop(); <-done }()

	tr.Ack(ms[:3]...) // under half the cap: waits for the (hour-long) tick
	time.Sleep(300 * time.Millisecond)
	if _, ok := committed(k, "g1", "features")[0]; ok {
		t.Fatal("committed before half the cap was acknowledged")
	}
	if got := tr.InFlight(); got != 8 {
		t.Fatalf("InFlight = %d before a commit, want 8", got)
	}
	tr.Ack(ms[3])
	waitCommitted(t, ctx, k, "g1", ms[3].Offset+1)
	deadline := time.Now().Add(5 * time.Second)
	for tr.InFlight() != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("InFlight = %d after the commit, want 4", tr.InFlight())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
