package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

// The stages on the in-memory parts (mem_test.go): no broker, registry or
// Redis, so each runs in milliseconds to a second; the same behaviours are
// proven end to end on real parts in pipeline_test.go, badinput_test.go,
// oversize_test.go and internal/faults.

// predictionCodec reads the predictions the worker framed.
func predictionCodec(t *testing.T) *goavro.Codec {
	t.Helper()
	c, err := goavro.NewCodec(schemas.PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// decodePrediction checks the Confluent frame (schema id 2, as the test's
// Deps say) and returns the prediction's fields.
func decodePrediction(t *testing.T, c *goavro.Codec, m kafka.Message) map[string]any {
	t.Helper()
	id, body, err := schemas.ParseFrame(m.Value)
	if err != nil || id != 2 {
		t.Fatalf("prediction framed with id %d (%v), want 2", id, err)
	}
	native, _, err := c.NativeFromBinary(body)
	if err != nil {
		t.Fatal(err)
	}
	return native.(map[string]any)
}

func partitionOf(key []byte, n int) int {
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(n))
}

// Every event is predicted once, a key's predictions leave in the order
// its events came in, and the committed positions reach the end of every
// partition.
func TestStagesKeepKeyOrderAndCommit(t *testing.T) {
	m := startMem(t, pipeline.Config{Batch: batch(16, time.Millisecond), CommitInterval: 20 * time.Millisecond}, &memSink{})
	const n, parts = 400, 4
	order := map[string][]string{} // key → event ids in the order sent
	perPart := map[int]int64{}
	for range n {
		rec := m.gen.Next()
		key := []byte(rec["entity_id"].(string))
		p := partitionOf(key, parts)
		m.src.add(p, kafka.Message{Key: key, Value: m.dec.record(rec)})
		perPart[p]++
		order[string(key)] = append(order[string(key)], rec["event_id"].(string))
	}
	m.src.waitFor(t, 10*time.Second, "every partition committed to its end", func() bool {
		for p, end := range perPart {
			if m.src.committed[p] != end {
				return false
			}
		}
		return true
	})
	preds := m.sink.onTopic("predictions")
	if len(preds) != n {
		t.Fatalf("%d predictions for %d events", len(preds), n)
	}
	c := predictionCodec(t)
	seen := map[string]bool{}
	got := map[string][]string{}
	for _, p := range preds {
		rec := decodePrediction(t, c, p)
		id := rec["event_id"].(string)
		if seen[id] {
			t.Fatalf("event %s predicted twice", id)
		}
		seen[id] = true
		if string(p.Key) != rec["entity_id"] {
			t.Fatalf("prediction of %s keyed %q, entity %v", id, p.Key, rec["entity_id"])
		}
		got[string(p.Key)] = append(got[string(p.Key)], id)
	}
	for key, want := range order {
		if strings.Join(got[key], ",") != strings.Join(want, ",") {
			t.Fatalf("key %s: predictions in order %v, events came in %v", key, got[key], want)
		}
	}
}

// Records that cannot be read or mapped are dead-lettered with their class
// and original bytes; a registry that cannot be reached is waited out, not
// dead-lettered; every offset is committed.
func TestStagesDeadLetters(t *testing.T) {
	m := startMem(t, pipeline.Config{Batch: batch(8, time.Millisecond), CommitInterval: 20 * time.Millisecond, MaxRecordBytes: 200}, &memSink{})
	m.dec.unavailable = 3
	nan, wrong := m.gen.Next(), m.gen.Next()
	nan["amount"] = math.NaN()
	wrong["amount"] = "twelve"
	cases := []struct {
		name  string
		value []byte
		class dlq.Class
	}{
		{"unknown record", []byte("never registered"), dlq.Decode},
		{"too large", []byte(strings.Repeat("x", 201)), dlq.TooLarge},
		{"NaN", m.dec.record(nan), dlq.NonFinite},
		{"wrong type", m.dec.record(wrong), dlq.WrongType},
	}
	good := m.publish(0, 5)
	for _, c := range cases {
		m.src.add(0, kafka.Message{Key: []byte(c.name), Value: c.value, Headers: []kafka.Header{{Key: "case", Value: []byte(c.name)}}})
	}
	good = append(good, m.publish(0, 5)...)
	total := int64(len(good) + len(cases))
	m.src.waitFor(t, 10*time.Second, "partition 0 committed to its end", func() bool { return m.src.committed[0] == total })
	if preds := m.sink.onTopic("predictions"); len(preds) != len(good) {
		t.Errorf("%d predictions, want %d", len(preds), len(good))
	}
	dls := m.sink.onTopic("features.dlq")
	if len(dls) != len(cases) {
		t.Fatalf("%d dead letters, want %d", len(dls), len(cases))
	}
	for i, c := range cases {
		info, err := consumers.ParseDeadLetter(dls[i])
		if err != nil {
			t.Fatal(err)
		}
		if info.Class != c.class || string(dls[i].Value) != string(c.value) || info.SourceTopic != "features" ||
			info.SourceOffset != int64(5+i) || info.ConsumerGroup != "sluice" || info.Message == "" {
			t.Errorf("%s: dead letter %+v with value %q, want class %s, the original value, offset %d", c.name, info, dls[i].Value, c.class, 5+i)
		}
	}
}

// An output that cannot be written is written again; after WriteRetries
// more failures its input partition is stuck — paused, reported, never
// committed past — while the other partitions go on; once the write
// succeeds the partition resumes and is committed to its end.
func TestStagesStuckPartitionResumes(t *testing.T) {
	sink := &memSink{}
	m := startMem(t, pipeline.Config{Batch: batch(8, time.Millisecond), CommitInterval: 20 * time.Millisecond, WriteRetries: 1}, sink)
	refused := errors.New("the broker refuses the write")
	sink.setFail(func(msg kafka.Message) error {
		if msg.Topic == "predictions" && strings.HasPrefix(string(msg.Key), "p1/") {
			return refused
		}
		return nil
	})
	for p := range 2 {
		for i := range 10 {
			rec := m.gen.Next()
			m.src.add(p, kafka.Message{Key: fmt.Appendf(nil, "p%d/%d", p, i), Value: m.dec.record(rec)})
		}
	}
	m.src.waitFor(t, 10*time.Second, "partition 0 committed, partition 1 paused", func() bool {
		return m.src.committed[0] == 10 && m.src.paused[1]
	})
	stuck := m.w.Stuck()
	if len(stuck) != 1 || stuck[0].Partition != 1 || stuck[0].Offset != 0 || stuck[0].Output != "predictions" || !errors.Is(stuck[0].Err, refused) {
		t.Fatalf("stuck partitions %+v, want partition 1 at offset 0 writing to predictions", stuck)
	}
	found := false
	for _, c := range m.w.NotReady() {
		found = found || c.Name == pipeline.CondPartitionStuck
	}
	if !found || m.w.Ready() {
		t.Errorf("NotReady %v does not report the stuck partition", m.w.NotReady())
	}
	if pos, _, _ := m.src.positions(); pos[1] != 0 {
		t.Fatalf("partition 1 committed to %d past an output never written", pos[1])
	}

	sink.setFail(nil)
	m.src.waitFor(t, 15*time.Second, "partition 1 resumed and committed to its end", func() bool {
		return m.src.committed[1] == 10 && !m.src.paused[1]
	})
	if s := m.w.Stuck(); len(s) != 0 {
		t.Errorf("still stuck: %+v", s)
	}
	if n := len(sink.onTopic("predictions")); n != 20 {
		t.Errorf("%d predictions written, want 20", n)
	}
}

// When Run's context ends the worker stops fetching, drains what it has
// fetched through every stage to the sink, commits once more, closes the
// source and the sink, and returns nil; afterwards Predict is refused.
func TestStagesDrainOnShutdown(t *testing.T) {
	sink := &memSink{}
	// No periodic commit: only the final one can move the positions, and
	// a long batch delay keeps events inside the stages at the cancel.
	m := startMem(t, pipeline.Config{Batch: batch(64, 200*time.Millisecond), CommitInterval: time.Hour,
		Readiness: pipeline.Readiness{StallTimeout: 2 * time.Hour}}, sink)
	for p := range 3 {
		m.publish(p, 100)
	}
	m.src.waitFor(t, 10*time.Second, "every event fetched", func() bool {
		for _, q := range m.src.queues {
			if len(q) > 0 {
				return false
			}
		}
		return true
	})
	if err := m.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	pos, closed, open := m.src.positions()
	if !closed || open != 0 {
		t.Errorf("after Run: source closed %v, %d records handed out and not committed", closed, open)
	}
	for p := range 3 {
		if pos[p] != 100 {
			t.Errorf("partition %d committed to %d, want 100", p, pos[p])
		}
	}
	if n := len(sink.onTopic("predictions")); n != 300 {
		t.Errorf("%d predictions written before Run returned, want 300", n)
	}
	if err := sink.Enqueue(kafka.Message{Topic: "predictions"}); !errors.Is(err, producers.ErrClosed) {
		t.Errorf("the sink is open after Run: Enqueue = %v", err)
	}
	if _, err := m.w.Predict(t.Context(), []map[string]any{m.gen.Next()}); !errors.Is(err, pipeline.ErrNotServing) {
		t.Errorf("Predict after Run = %v, want ErrNotServing", err)
	}
}

// memObserver counts what the drift tap is shown: every event is sampled.
type memObserver struct {
	mu    sync.Mutex
	names map[*string]bool // the names slices seen, by their first element
	n     int
	bad   string
}

func (o *memObserver) Sample() bool { return true }

func (o *memObserver) Observe(names []string, values []any, score float32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n++
	o.names[&names[0]] = true
	if len(values) != len(names) || score < 0 || score > 1 {
		o.bad = fmt.Sprintf("%d values for %d names, score %v", len(values), len(names), score)
	}
}

func (o *memObserver) seen() (int, int, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n, len(o.names), o.bad
}

// slowKeeper blocks every Keep until release is closed, as a Redis that
// does not answer would.
type slowKeeper struct {
	release chan struct{}
	mu      sync.Mutex
	kept    int
}

func (k *slowKeeper) Keep(ctx context.Context, events []pipeline.KeptEvent) error {
	select {
	case <-k.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	k.mu.Lock()
	k.kept += len(events)
	k.mu.Unlock()
	return nil
}

// The side effects run beside the emit stage: the drift tap is shown every
// event it sampled as positional fields (one names slice per schema), and
// a feature log that does not answer holds up no prediction: what the side
// stage cannot take is dropped and counted, and it keeps what comes once
// it answers again.
func TestStagesSideEffectsBesideEmit(t *testing.T) {
	obs := &memObserver{names: map[*string]bool{}}
	m := startMemWith(t, pipeline.Config{Batch: batch(8, time.Millisecond), CommitInterval: 20 * time.Millisecond}, &memSink{}, obs, nil)
	m.publish(0, 300)
	m.src.waitFor(t, 10*time.Second, "every event committed", func() bool { return m.src.committed[0] == 300 })
	if err := m.stop(); err != nil {
		t.Fatal(err)
	}
	if n, schemas, bad := obs.seen(); n != 300 || schemas != 1 || bad != "" {
		t.Fatalf("the tap saw %d of 300 events, %d names slices (want one), %s", n, schemas, bad)
	}

	keeper := &slowKeeper{release: make(chan struct{})}
	obs = &memObserver{names: map[*string]bool{}}
	m = startMemWith(t, pipeline.Config{Batch: batch(4, time.Millisecond), CommitInterval: 20 * time.Millisecond}, &memSink{}, obs, keeper)
	const n = 2000 // 500 batches at least: more than the side stage queues
	m.publish(0, n)
	m.src.waitFor(t, 20*time.Second, "every event predicted and committed while the feature log hangs", func() bool { return m.src.committed[0] == n })
	if got := len(m.sink.onTopic("predictions")); got != n {
		t.Fatalf("%d predictions, want %d", got, n)
	}
	dropped := testutil.ToFloat64(gathered{reg: m.reg, name: "sluice_keep_errors_total"})
	if dropped == 0 {
		t.Fatal("no batch counted in sluice_keep_errors_total while the feature log hung")
	}
	close(keeper.release)
	more := m.publish(0, 8)
	m.src.waitFor(t, 10*time.Second, "the events after it answers committed", func() bool { return m.src.committed[0] == n+int64(len(more)) })
	if err := m.stop(); err != nil {
		t.Fatal(err)
	}
	keeper.mu.Lock()
	kept := keeper.kept
	keeper.mu.Unlock()
	if kept < len(more) || kept >= n+len(more) {
		t.Errorf("kept %d events of %d (%v batches dropped): want the queued ones and those after the log answered", kept, n+len(more), dropped)
	}
}
