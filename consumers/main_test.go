package consumers

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/producers"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testReaderConfig is a reader config with timings short enough for tests
// (kfake's minimum session timeout is 6s).
func testReaderConfig(addr, topic, group string) ReaderConfig {
	return ReaderConfig{
		Brokers:           []string{addr},
		Topic:             topic,
		GroupID:           group,
		MaxWait:           100 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: 200 * time.Millisecond,
		RebalanceTimeout:  5 * time.Second,
		JoinGroupBackoff:  200 * time.Millisecond,
		Logger:            slog.New(slog.DiscardHandler),
	}
}

func newTestReader(t *testing.T, cfg ReaderConfig) *Reader {
	t.Helper()
	r, err := NewReader(cfg)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("closing reader: %v", err)
		}
	})
	return r
}

// produceKeyed writes n messages with keys key-0 … key-(keys-1) and values
// v-0 … v-(n-1) to topic and returns them.
func produceKeyed(t *testing.T, k *testkit.Kafka, topic string, n, keys int) []kafka.Message {
	t.Helper()
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{k.Addr}, Topic: topic}, nil)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "key-%d", i%keys), Value: fmt.Appendf(nil, "v-%d", i)}
	}
	ctx := testkit.Context(t, 10*time.Second)
	if err := w.Write(ctx, msgs...); err != nil {
		t.Fatalf("producing: %v", err)
	}
	return msgs
}

// fetchN fetches n messages or fails the test.
func fetchN(t *testing.T, ctx context.Context, r *Reader, n int) []kafka.Message {
	t.Helper()
	out := make([]kafka.Message, 0, n)
	for len(out) < n {
		m, err := r.Fetch(ctx)
		if err != nil {
			t.Fatalf("fetched %d of %d: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// committed returns the group's committed offsets of topic by partition.
func committed(k *testkit.Kafka, group, topic string) map[int]int64 {
	out := map[int]int64{}
	gi := k.Cluster.GroupInfo(group)
	if gi == nil {
		return out
	}
	for p, c := range gi.Commits[topic] {
		out[int(p)] = c.Offset
	}
	return out
}

func equalOffsets(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func offsetsOf(ms []kafka.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Offset
	}
	return out
}

func itoa(i int) string { return fmt.Sprint(i) }

func kfakeDataDir(t *testing.T) kfake.Opt { return kfake.DataDir(t.TempDir()) }

func produceOne(t *testing.T, k *testkit.Kafka, topic string, m kafka.Message) {
	t.Helper()
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{k.Addr}, Topic: topic}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(testkit.Context(t, 10*time.Second), m); err != nil {
		t.Fatalf("producing: %v", err)
	}
}
