package security

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/producers"
)

var topicSeq atomic.Int64

// roundTrip produces one message through producers.Writer with the
// Transport from Kafka(cfg) and consumes it in a group through
// consumers.Reader with the Dialer.
func roundTrip(t *testing.T, k *testkit.Kafka, cfg config.Kafka) {
	t.Helper()
	cfg.Brokers = []string{k.Addr}
	topic := fmt.Sprintf("secure-%d", topicSeq.Add(1))
	k.CreateTopic(t, topic, 1)
	d, tr, err := Kafka(cfg, discard())
	if err != nil {
		t.Fatalf("Kafka: %v", err)
	}
	defer tr.CloseIdleConnections()
	ctx := testkit.Context(t, 30*time.Second)
	if err := CheckKafka(ctx, cfg, d); err != nil {
		t.Fatalf("CheckKafka: %v", err)
	}

	w, err := producers.NewWriter(producers.WriterConfig{Brokers: cfg.Brokers, Topic: topic, Transport: tr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "secret event " + topic
	werr := w.Write(ctx, kafka.Message{Key: []byte("k"), Value: []byte(want)})
	if err := w.Close(); err != nil {
		t.Errorf("closing writer: %v", err)
	}
	if werr != nil {
		t.Fatalf("Write: %v", werr)
	}

	r, err := consumers.NewReader(consumers.ReaderConfig{
		Brokers: cfg.Brokers, Topic: topic, GroupID: "g-" + topic, Dialer: d,
		MaxWait: 100 * time.Millisecond, SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := r.Fetch(ctx)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if string(m.Value) != want {
		t.Fatalf("consumed %q, want %q", m.Value, want)
	}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// refused checks that both CheckKafka and a Writer fail quickly with an
// error containing every one of want.
func refused(t *testing.T, k *testkit.Kafka, cfg config.Kafka, want ...string) {
	t.Helper()
	cfg.Brokers = []string{k.Addr}
	d, tr, err := Kafka(cfg, discard())
	if err != nil {
		t.Fatalf("Kafka: %v", err)
	}
	defer tr.CloseIdleConnections()
	ctx := testkit.Context(t, 30*time.Second)

	start := time.Now()
	err = CheckKafka(ctx, cfg, d)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("CheckKafka took %s to refuse", took)
	}
	assertErr(t, "CheckKafka", err, want...)
	t.Logf("CheckKafka: %v", err)

	w, err := producers.NewWriter(producers.WriterConfig{Brokers: cfg.Brokers, Topic: "refused", Transport: tr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start = time.Now()
	err = w.Write(ctx, kafka.Message{Value: []byte("x")})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Writer.Write took %s to fail", took)
	}
	if err == nil {
		t.Fatal("Writer.Write succeeded")
	}
	t.Logf("Writer.Write failed after %s: %v", time.Since(start).Round(time.Millisecond), err)

	// The group reader gives up on this attempt with an error too (the
	// caller may retry Fetch), rather than blocking until ctx ends.
	topic := fmt.Sprintf("refused-%d", topicSeq.Add(1))
	k.CreateTopic(t, topic, 1)
	r, err := consumers.NewReader(consumers.ReaderConfig{Brokers: cfg.Brokers, Topic: topic, GroupID: "g-" + topic, Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fctx := testkit.Context(t, 10*time.Second)
	start = time.Now()
	_, err = r.Fetch(fctx)
	if err == nil || fctx.Err() != nil {
		t.Fatalf("Reader.Fetch: %v after %s, want a refusal", err, time.Since(start))
	}
	t.Logf("Reader.Fetch failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
}

func assertErr(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one containing %q", what, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not contain %q", what, err, w)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logBuffer is a logger whose output the test can read.
type logBuffer struct{ testkit.LogBuffer }

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
