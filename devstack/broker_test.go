package devstack_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/devstack"
	"github.com/sluice-ml/sluice/internal/testkit"
)

// startBroker starts a dev broker and its retention loop, both stopped
// when the test ends.
func startBroker(t *testing.T, cfg devstack.BrokerConfig) *devstack.Broker {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	b, err := devstack.StartBroker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; b.Close() })
	return b
}

// produce writes n values of size bytes to topic, asking the broker to
// create the topic if it may.
func produce(ctx context.Context, addr, topic string, n, size int) error {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, RequiredAcks: kafka.RequireAll, Transport: tr,
		BatchTimeout: time.Millisecond, BatchSize: 50, AllowAutoTopicCreation: true, MaxAttempts: 3,
		WriteBackoffMin: 20 * time.Millisecond, WriteBackoffMax: 50 * time.Millisecond}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: bytes.Repeat([]byte{byte('a' + i%26)}, size)}
	}
	return w.WriteMessages(ctx, msgs...)
}

// offsets returns the first and next offsets of topic's partition 0.
func offsets(t *testing.T, addr, topic string) (first, next int64) {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second, Transport: testkit.Transport(t)}
	res, err := c.ListOffsets(t.Context(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Topics[topic][0]
	if p.Error != nil {
		t.Fatal(p.Error)
	}
	return p.FirstOffset, p.LastOffset
}

// diskUse sums the sizes of the files under dir.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A topic a client asks for is created on first use with the broker's
// partition count, as with Kafka's auto.create.topics.enable; with
// creation off, the client is refused and no topic appears.
func TestBrokerCreatesTopicsOnFirstUse(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		b := startBroker(t, devstack.BrokerConfig{Partitions: 3, AutoCreate: true})
		if err := produce(testkit.Context(t, 30*time.Second), b.Addr(), "my-own-topic", 10, 10); err != nil {
			t.Fatalf("producing to a new topic: %v", err)
		}
		if parts := b.PartitionInfos("my-own-topic"); len(parts) != 3 {
			t.Fatalf("topic after first use has %d partitions, want 3", len(parts))
		}
	})
	t.Run("off", func(t *testing.T) {
		b := startBroker(t, devstack.BrokerConfig{Partitions: 3})
		err := produce(testkit.Context(t, 30*time.Second), b.Addr(), "my-own-topic", 1, 10)
		if !errors.Is(err, kafka.UnknownTopicOrPartition) {
			t.Fatalf("producing to a missing topic with creation off: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
		}
		if info := b.TopicInfo("my-own-topic"); info != nil {
			t.Fatalf("topic created with creation off: %+v", info)
		}
	})
}

// Retention by size keeps each partition's log, on disk, within
// retention.bytes plus one segment, dropping the oldest records; retention
// by time drops every record older than retention.ms.
func TestBrokerAppliesRetention(t *testing.T) {
	const size, n = 1000, 600 // ~600 KB in ~12 batches of 50
	t.Run("bytes", func(t *testing.T) {
		dir := t.TempDir()
		const keep, segment = 100 << 10, 32 << 10
		b := startBroker(t, devstack.BrokerConfig{Dir: dir, Partitions: 1, AutoCreate: true, RetentionMs: -1,
			RetentionBytes: keep, SegmentBytes: segment, RetentionCheck: 50 * time.Millisecond})
		if err := produce(testkit.Context(t, 30*time.Second), b.Addr(), "sized", n, size); err != nil {
			t.Fatal(err)
		}
		// A retention pass may run while the records are still coming in;
		// the next one, after the last write, brings the log within bounds.
		var first, next int64
		deadline := time.Now().Add(10 * time.Second)
		for {
			first, next = offsets(t, b.Addr(), "sized")
			if (next-first)*size <= keep+5*size || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if next != n {
			t.Fatalf("next offset %d, want %d", next, n)
		}
		kept := next - first
		t.Logf("kept offsets %d..%d (%d records of %d bytes)", first, next, kept, size)
		// The oldest records went, and what is left is what fits.
		if kept*size > keep+5*size || kept*size < keep-60*size {
			t.Fatalf("kept %d records (%d bytes), want about %d bytes", kept, kept*size, keep)
		}
		if used := diskUse(t, filepath.Join(dir, "partitions")); used > keep+segment+10*size {
			t.Fatalf("partition files hold %d bytes, want at most retention %d + segment %d", used, keep, segment)
		}
	})
	t.Run("time", func(t *testing.T) {
		dir := t.TempDir()
		b := startBroker(t, devstack.BrokerConfig{Dir: dir, Partitions: 1, AutoCreate: true, RetentionMs: 300,
			RetentionBytes: -1, SegmentBytes: 32 << 10, RetentionCheck: 50 * time.Millisecond})
		produced := time.Now() // every record's timestamp is this or later
		if err := produce(testkit.Context(t, 30*time.Second), b.Addr(), "timed", n, size); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			first, next := offsets(t, b.Addr(), "timed")
			if first == n && next == n {
				break
			}
			if time.Since(produced) < 250*time.Millisecond && first > 0 {
				t.Fatalf("records deleted %s after they were written, before retention.ms", time.Since(produced))
			}
			if time.Now().After(deadline) {
				t.Fatalf("offsets %d..%d 10s after writing, want every record deleted after 300ms", first, next)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if used := diskUse(t, filepath.Join(dir, "partitions")); used > 1000 {
			t.Fatalf("partition files hold %d bytes after every record expired", used)
		}
	})
}
