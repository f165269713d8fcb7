package testworker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

// Encode frames rec (a demo transaction) with the input schema, keyed by
// its entity_id; headers are added as given.
func (e *Env) Encode(rec map[string]any, headers ...kafka.Header) kafka.Message {
	e.t.Helper()
	v, err := e.Input.Append(nil, rec)
	if err != nil {
		e.t.Fatal(err)
	}
	return kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v, Headers: headers}
}

// Publish writes n demo events from a generator seeded with seed and
// returns them in the order they were sent.
func (e *Env) Publish(n int, seed int64, opts ...demo.Option) []map[string]any {
	e.t.Helper()
	gen := demo.NewGenerator(seed, opts...)
	recs := make([]map[string]any, n)
	msgs := make([]kafka.Message, n)
	for i := range recs {
		recs[i] = gen.Next()
		msgs[i] = e.Encode(recs[i])
	}
	e.PublishRaw(msgs...)
	return recs
}

// PublishRaw writes msgs to the features topic with acks=all.
func (e *Env) PublishRaw(msgs ...kafka.Message) {
	e.t.Helper()
	e.PublishTo(Features, msgs...)
}

// PublishTo writes msgs to topic with acks=all.
func (e *Env) PublishTo(topic string, msgs ...kafka.Message) {
	e.t.Helper()
	tr := &kafka.Transport{} // its own, closed here: kafka-go's default transport keeps its connections for good
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(e.Kafka.Addr), Topic: topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000, Transport: tr}
	defer w.Close()
	if err := w.WriteMessages(testkit.Context(e.t, 30*time.Second), msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// Record is one message read back; Rec is its decoded value (nil on a
// dead-letter topic, any whose name ends in .dlq: its values are the
// original bytes).
type Record struct {
	Msg kafka.Message
	Rec map[string]any
}

// Read reads n records from topic within timeout, then keeps reading for
// linger to catch extra ones.
func (e *Env) Read(topic string, n int, timeout, linger time.Duration) []Record {
	e.t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.Kafka.Addr}, Topic: topic,
		GroupID: fmt.Sprintf("reader-%s-%d", topic, time.Now().UnixNano()), StartOffset: kafka.FirstOffset,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 20 * time.Millisecond})
	defer r.Close()
	dec := schemas.NewDecoder(e.Client, 1<<20)
	var out []Record
	deadline := time.Now().Add(timeout)
	for {
		until := deadline
		if len(out) >= n {
			until = time.Now().Add(linger)
		}
		ctx, cancel := context.WithDeadline(context.Background(), until)
		msg, err := r.FetchMessage(ctx)
		cancel()
		if err != nil {
			if len(out) < n {
				e.t.Fatalf("read %d of %d records from %s: %v", len(out), n, topic, err)
			}
			return out
		}
		var rec map[string]any
		if !strings.HasSuffix(topic, ".dlq") {
			if rec, _, err = dec.Decode(context.Background(), msg.Value); err != nil {
				e.t.Fatalf("decoding a %s record: %v", topic, err)
			}
		}
		out = append(out, Record{Msg: msg, Rec: rec})
	}
}

// NewSink returns the sink sluice publishes its own events through (drift
// reports, retrain requests: producers.EventSink), writing to the
// environment's broker; its writer is closed when the test ends.
func (e *Env) NewSink() *producers.EventSink {
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{e.Kafka.Addr}}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = w.Close() })
	return producers.NewEventSink(e.Client, w)
}
