package producers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// TestConcurrentWritesAllAcked writes from several goroutines with acks=all
// and reads everything back.
func TestConcurrentWritesAllAcked(t *testing.T) {
	const writers, per = 4, 50
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 4)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	w := newTestWriter(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions"}, m)
	ctx := testkit.Context(t, 20*time.Second)

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Go(func() {
			for i := range per {
				v := fmt.Appendf(nil, "%d-%d", g, i)
				if err := w.Write(ctx, kafka.Message{Key: v, Value: v}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	want := map[string]bool{}
	for g := range writers {
		for i := range per {
			want[fmt.Sprintf("%d-%d", g, i)] = true
		}
	}
	for _, msg := range readBack(t, ctx, k, "predictions", writers*per) {
		if !want[string(msg.Value)] {
			t.Errorf("unexpected or repeated value %q", msg.Value)
		}
		delete(want, string(msg.Value))
	}
	if got := testutil.ToFloat64(m.produced.WithLabelValues("predictions")); got != writers*per {
		t.Errorf("sluice_messages_produced_total = %v, want %d", got, writers*per)
	}
	if n := testutil.CollectAndCount(reg, "sluice_produce_seconds"); n != 1 {
		t.Errorf("sluice_produce_seconds series = %d, want 1", n)
	}
}

// TestMurmur2KeyPartitioning checks that a key lands on the partition the
// Java client picks: toPositive(murmur2(key)) % partitions. The hashes are
// the test vectors of Apache Kafka's Utils.murmur2.
func TestMurmur2KeyPartitioning(t *testing.T) {
	javaHash := map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"abc":                        479470107,
	}
	const parts = 7
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", parts)
	w := newTestWriter(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions"}, nil)
	ctx := testkit.Context(t, 20*time.Second)
	const rounds = 3
	for round := range rounds {
		for key := range javaHash {
			if err := w.Write(ctx, kafka.Message{Key: []byte(key), Value: []byte{byte(round)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, msg := range readBack(t, ctx, k, "predictions", rounds*len(javaHash)) {
		want := int(uint32(javaHash[string(msg.Key)])&0x7fffffff) % parts
		if msg.Partition != want {
			t.Errorf("key %q on partition %d, the Java client picks %d", msg.Key, msg.Partition, want)
		}
	}
}

func TestWritePerMessageTopic(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "drift-reports", 1)
	k.CreateTopic(t, "retrain-requests", 1)
	m := NewMetrics(nil)
	w := newTestWriter(t, WriterConfig{Brokers: []string{k.Addr}}, m)
	ctx := testkit.Context(t, 20*time.Second)
	err := w.Write(ctx,
		kafka.Message{Topic: "drift-reports", Value: []byte("r1")},
		kafka.Message{Topic: "drift-reports", Value: []byte("r2")},
		kafka.Message{Topic: "retrain-requests", Value: []byte("q1")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, ctx, k, "retrain-requests", 1); string(got[0].Value) != "q1" {
		t.Fatalf("read %q", got[0].Value)
	}
	for topic, want := range map[string]float64{"drift-reports": 2, "retrain-requests": 1} {
		if got := testutil.ToFloat64(m.produced.WithLabelValues(topic)); got != want {
			t.Errorf("produced{%s} = %v, want %v", topic, got, want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	ctx := testkit.Context(t, 25*time.Second)
	big := make([]byte, 2<<10)
	tests := []struct {
		name  string
		topic string
		msgs  []kafka.Message
		check func(error) bool
	}{
		{"unknown topic", "no-such-topic", []kafka.Message{{Value: []byte("x")}, {Value: []byte("y")}},
			func(err error) bool { return errors.Is(err, kafka.UnknownTopicOrPartition) }},
		{"message too large", "predictions", []kafka.Message{{Value: []byte("ok")}, {Value: big}},
			func(err error) bool { var e kafka.MessageTooLargeError; return errors.As(err, &e) }},
		{"topic on writer and message", "predictions", []kafka.Message{{Topic: "other", Value: []byte("x")}},
			func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics(nil)
			w := newTestWriter(t, WriterConfig{Brokers: []string{k.Addr}, Topic: tt.topic, BatchBytes: 1 << 10}, m)
			err := w.Write(ctx, tt.msgs...)
			var we *WriteError
			if !errors.As(err, &we) || we.Failed != len(tt.msgs) || we.Total != len(tt.msgs) || !we.MessageFailed(0) {
				t.Fatalf("Write = %v (%+v), want a WriteError with all %d failed", err, we, len(tt.msgs))
			}
			if !tt.check(err) {
				t.Fatalf("Write = %v: wrong cause", err)
			}
			if got := testutil.ToFloat64(m.failed.WithLabelValues(tt.topic)); got != float64(len(tt.msgs)) {
				t.Errorf("sluice_produce_errors_total = %v, want %d", got, len(tt.msgs))
			}
		})
	}
}

func TestWriteAfterClose(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	w, err := NewWriter(WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testkit.Context(t, 10*time.Second)
	if err := w.Write(ctx, kafka.Message{Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, kafka.Message{Value: []byte("b")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestSmallWriteLatency guards the BatchTimeout default: kafka-go's own (1s)
// would make every partial batch wait a second.
func TestSmallWriteLatency(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	w := newTestWriter(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions"}, nil)
	ctx := testkit.Context(t, 10*time.Second)
	if err := w.Write(ctx, kafka.Message{Value: []byte("warm-up")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 5 {
		if err := w.Write(ctx, kafka.Message{Value: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if per := time.Since(start) / 5; per > 250*time.Millisecond {
		t.Fatalf("a one-message Write took %v", per)
	}
}

func TestWriteContextCancelled(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	w := newTestWriter(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions", BatchTimeout: time.Hour, BatchSize: 100}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := w.Write(ctx, kafka.Message{Value: []byte("waits for a full batch")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write = %v, want DeadlineExceeded", err)
	}
}
