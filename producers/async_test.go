package producers

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// completions records what an AsyncWriter reports.
type completions struct {
	mu    sync.Mutex
	calls [][]kafka.Message
	errs  []error
	n     int
	ch    chan struct{} // receives once per completed message
}

func newCompletions(buffer int) *completions {
	return &completions{ch: make(chan struct{}, buffer)}
}

func (c *completions) done(msgs []kafka.Message, err error) {
	c.mu.Lock()
	c.calls = append(c.calls, slices.Clone(msgs))
	if err != nil {
		c.errs = append(c.errs, err)
	}
	c.n += len(msgs)
	c.mu.Unlock()
	for range msgs {
		c.ch <- struct{}{}
	}
}

func (c *completions) wait(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for i := range n {
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("%d of %d messages completed within %v", i, n, within)
		}
	}
}

// waitOK waits for n messages and fails the test if any request failed.
func (c *completions) waitOK(t *testing.T, n int, within time.Duration) {
	t.Helper()
	c.wait(t, n, within)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		t.Fatalf("%d requests failed, first: %v", len(c.errs), c.errs[0])
	}
}

func newAsync(t *testing.T, cfg WriterConfig, m *Metrics, c *completions) *AsyncWriter {
	t.Helper()
	w, err := NewAsyncWriter(cfg, m, c.done)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("closing async writer: %v", err)
		}
	})
	return w
}

// TestAsyncWriterOrderAndAcks enqueues keyed messages to two topics in
// chunks of varying size and checks that each completes once, without
// error, in requests of one partition that keep the enqueue order, on the
// partition the Java client picks, and that a reader sees every key's
// messages in order.
func TestAsyncWriterOrderAndAcks(t *testing.T) {
	const total, keys, parts = 3000, 25, 4
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", parts)
	k.CreateTopic(t, "features.dlq", 1)
	m := NewMetrics(nil)
	c := newCompletions(total)
	w := newAsync(t, WriterConfig{Brokers: []string{k.Addr}, BatchSize: 50}, m, c)
	seq := 0
	for chunk := 1; seq < total; chunk = chunk%97 + 7 {
		var msgs []kafka.Message
		for range min(chunk, total-seq) {
			topic := "predictions"
			if seq%10 == 0 {
				topic = "features.dlq"
			}
			msgs = append(msgs, kafka.Message{Topic: topic, Key: fmt.Appendf(nil, "k%d", seq%keys),
				Value: fmt.Appendf(nil, "%d", seq), WriterData: seq})
			seq++
		}
		if err := w.Enqueue(msgs...); err != nil {
			t.Fatal(err)
		}
	}
	c.waitOK(t, total, 20*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make([]bool, total)
	lastSeq := map[[2]any]int{}      // (topic, partition) → last seq completed
	lastOffset := map[[2]any]int64{} // (topic, partition) → last offset
	for _, call := range c.calls {
		if len(call) > 50 {
			t.Errorf("a request of %d messages, batch_size is 50", len(call))
		}
		for i, msg := range call {
			s := msg.WriterData.(int)
			if seen[s] {
				t.Fatalf("message %d completed twice", s)
			}
			seen[s] = true
			if msg.Topic != call[0].Topic || msg.Partition != call[0].Partition {
				t.Fatalf("one request holds %s/%d and %s/%d", call[0].Topic, call[0].Partition, msg.Topic, msg.Partition)
			}
			tp := [2]any{msg.Topic, msg.Partition}
			if prev, ok := lastSeq[tp]; ok && s < prev {
				t.Fatalf("%s/%d: message %d completed after %d", msg.Topic, msg.Partition, s, prev)
			}
			if prev, ok := lastOffset[tp]; ok && msg.Offset <= prev {
				t.Fatalf("%s/%d: offset %d after %d", msg.Topic, msg.Partition, msg.Offset, prev)
			}
			if i > 0 && msg.Offset != call[i-1].Offset+1 {
				t.Fatalf("offsets in one request not consecutive: %d after %d", msg.Offset, call[i-1].Offset)
			}
			lastSeq[tp], lastOffset[tp] = s, msg.Offset
		}
	}
	if got := testutil.ToFloat64(m.produced.WithLabelValues("predictions")) + testutil.ToFloat64(m.produced.WithLabelValues("features.dlq")); got != total {
		t.Errorf("sluice_messages_produced_total = %v, want %d", got, total)
	}

	ctx := testkit.Context(t, 20*time.Second)
	lastByKey := map[string]int{}
	for _, msg := range readBack(t, ctx, k, "predictions", total-total/10) {
		var s int
		fmt.Sscanf(string(msg.Value), "%d", &s)
		if prev, ok := lastByKey[string(msg.Key)]; ok && s < prev {
			t.Fatalf("key %s: %d read after %d", msg.Key, s, prev)
		}
		lastByKey[string(msg.Key)] = s
		h := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: msg.Key}, 0, 1, 2, 3)
		if msg.Partition != h {
			t.Fatalf("key %s on partition %d, murmur2 picks %d", msg.Key, msg.Partition, h)
		}
	}
}

// TestAsyncWriterNoTimer: a lone message goes out at once, however long
// BatchTimeout is (the async writer batches by round trips, not by timer).
func TestAsyncWriterNoTimer(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	c := newCompletions(10)
	w := newAsync(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions", BatchTimeout: time.Hour}, nil, c)
	for i := range 3 {
		if err := w.Enqueue(kafka.Message{Value: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		c.wait(t, 1, 10*time.Second)
	}
}

// TestAsyncWriterRejects: what cannot be sent is refused by Enqueue as a
// whole, and nothing of it is completed.
func TestAsyncWriterRejects(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	c := newCompletions(10)
	w := newAsync(t, WriterConfig{Brokers: []string{k.Addr}, BatchBytes: 1 << 10}, nil, c)
	tests := []struct {
		name string
		msgs []kafka.Message
		is   error
	}{
		{"unknown topic", []kafka.Message{{Topic: "no-such-topic", Value: []byte("x")}}, kafka.UnknownTopicOrPartition},
		{"too large", []kafka.Message{{Topic: "predictions", Value: []byte("ok")}, {Topic: "predictions", Value: make([]byte, 2<<10)}}, kafka.MessageSizeTooLarge},
		{"no topic", []kafka.Message{{Value: []byte("x")}}, nil},
	}
	for _, tt := range tests {
		err := w.Enqueue(tt.msgs...)
		if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: Enqueue = %v, want %v", tt.name, err, tt.is)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Enqueue(kafka.Message{Topic: "predictions", Value: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrClosed", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n != 0 {
		t.Errorf("%d refused messages were completed", c.n)
	}
}

// TestAsyncWriterRidesOutBrokerRestart: messages enqueued while the broker
// is down are retried and acknowledged once it is back, in order.
func TestAsyncWriterRidesOutBrokerRestart(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	c := newCompletions(100)
	w := newAsync(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions", WriteTimeout: 2 * time.Second}, nil, c)
	if err := w.Enqueue(kafka.Message{Value: []byte("0")}); err != nil { // reads the metadata
		t.Fatal(err)
	}
	c.wait(t, 1, 10*time.Second)
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		k.Restart(t, time.Second)
		k.CreateTopic(t, "predictions", 1) // no data dir: the restarted broker starts empty
	}()
	time.Sleep(200 * time.Millisecond)
	for i := 1; i <= 20; i++ {
		if err := w.Enqueue(kafka.Message{Value: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.wait(t, 20, 20*time.Second)
	<-restarted
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		t.Fatalf("a request failed across the restart: %v", c.errs[0])
	}
	var got []string
	for _, call := range c.calls[1:] {
		for _, m := range call {
			got = append(got, string(m.Value))
		}
	}
	for i, v := range got {
		if v != fmt.Sprint(i+1) {
			t.Fatalf("completed out of order: %v", got)
		}
	}
}

// TestAsyncWriterFitsTheBrokerLimit: a backlog of ~1 KiB messages, several
// MiB in all, is cut into requests whose record batches the broker accepts
// (its limit is batch_bytes' default, 1 MiB, framing included).
func TestAsyncWriterFitsTheBrokerLimit(t *testing.T) {
	const n = 3000
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	c := newCompletions(n)
	w := newAsync(t, WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions"}, nil, c)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: make([]byte, 1040)}
	}
	if err := w.Enqueue(msgs...); err != nil {
		t.Fatal(err)
	}
	c.waitOK(t, n, 20*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) < 3 {
		t.Errorf("%d MiB went out in %d requests", n/1024, len(c.calls))
	}
}

// TestAsyncWriterCloseTimeoutEndsSenders: a partition whose requests keep
// failing is still retrying when Close's timeout passes; Close abandons
// it, completes its message with ErrClosed and returns ErrCloseTimeout
// only once its sender has ended (goleak in TestMain checks that nothing
// is left running).
func TestAsyncWriterCloseTimeoutEndsSenders(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 1)
	c := newCompletions(10)
	w, err := NewAsyncWriter(WriterConfig{Brokers: []string{k.Addr}, Topic: "predictions",
		WriteTimeout: time.Second, CloseTimeout: 300 * time.Millisecond}, nil, c.done)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Enqueue(kafka.Message{Value: []byte("metadata")}); err != nil {
		t.Fatal(err)
	}
	c.waitOK(t, 1, 10*time.Second)
	k.Cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		return nil, errors.New("produce refused by the test"), true // the connection drops: retriable
	})
	if err := w.Enqueue(kafka.Message{Value: []byte("never written")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the sender is in its retries
	start := time.Now()
	if err := w.Close(); !errors.Is(err, ErrCloseTimeout) {
		t.Fatalf("Close = %v, want ErrCloseTimeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %s with a 300ms close timeout", took)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n != 2 || len(c.errs) != 1 || !errors.Is(c.errs[0], ErrClosed) {
		t.Fatalf("after Close: %d messages completed, errors %v; want the second completed with ErrClosed", c.n, c.errs)
	}
}
