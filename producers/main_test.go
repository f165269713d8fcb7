package producers

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newTestWriter(t *testing.T, cfg WriterConfig, m *Metrics) *Writer {
	t.Helper()
	w, err := NewWriter(cfg, m)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("closing writer: %v", err)
		}
	})
	return w
}

// readBack reads n messages of topic with a fresh consumer group.
func readBack(t *testing.T, ctx context.Context, k *testkit.Kafka, topic string, n int) []kafka.Message {
	t.Helper()
	r, err := consumers.NewReader(consumers.ReaderConfig{
		Brokers: []string{k.Addr}, Topic: topic, GroupID: "readback-" + topic,
		MaxWait: 100 * time.Millisecond, SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := make([]kafka.Message, 0, n)
	for len(out) < n {
		m, err := r.Fetch(ctx)
		if err != nil {
			t.Fatalf("read %d of %d from %s: %v", len(out), n, topic, err)
		}
		out = append(out, m)
	}
	return out
}
