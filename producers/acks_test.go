package producers

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// produceAcks records the acks of every produce request the broker gets,
// by topic.
type produceAcks struct {
	mu   sync.Mutex
	acks map[string][]int16
}

func watchAcks(k *testkit.Kafka) *produceAcks {
	p := &produceAcks{acks: map[string][]int16{}}
	k.Cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		p.mu.Lock()
		for _, t := range pr.Topics {
			p.acks[t.Topic] = append(p.acks[t.Topic], pr.Acks)
		}
		p.mu.Unlock()
		return nil, nil, false
	})
	return p
}

// check fails the test unless topic got at least one produce request and
// every one asked for acks from all in-sync replicas (-1).
func (p *produceAcks) check(t *testing.T, topic string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.acks[topic]) == 0 {
		t.Fatalf("no produce request for %s", topic)
	}
	for _, a := range p.acks[topic] {
		if a != -1 {
			t.Fatalf("a produce request for %s asked for acks=%d, want all (-1)", topic, a)
		}
	}
}

// TestWritersAskForAcksFromAllReplicas: both writers produce with
// acks=all, the promise every commit rests on.
func TestWritersAskForAcksFromAllReplicas(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "predictions", 2)
	k.CreateTopic(t, "drift-reports", 1)
	acks := watchAcks(k)

	c := newCompletions(100)
	aw := newAsync(t, WriterConfig{Brokers: []string{k.Addr}}, nil, c)
	for i := range 50 {
		if err := aw.Enqueue(kafka.Message{Topic: "predictions", Key: fmt.Appendf(nil, "k%d", i), Value: []byte("p")}); err != nil {
			t.Fatal(err)
		}
	}
	c.waitOK(t, 50, 10*time.Second)

	w, err := NewWriter(WriterConfig{Brokers: []string{k.Addr}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(testkit.Context(t, 10*time.Second), kafka.Message{Topic: "drift-reports", Value: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	acks.check(t, "predictions")
	acks.check(t, "drift-reports")
}

// TestAsyncWriterHonoursTheTopicLimit: a topic whose max.message.bytes is
// below batch_bytes refuses larger messages at Enqueue (a TooLargeError
// naming the message) and gets record batches under its limit.
func TestAsyncWriterHonoursTheTopicLimit(t *testing.T) {
	const limit = 20_000
	k := testkit.StartKafka(t)
	if err := k.Cluster.CreateTopic("small", 1, map[string]string{"max.message.bytes": fmt.Sprint(limit)}); err != nil {
		t.Fatal(err)
	}
	c := newCompletions(200)
	w := newAsync(t, WriterConfig{Brokers: []string{k.Addr}}, nil, c)
	got, err := w.MessageLimit("small")
	if err != nil || got != limit-batchOverhead {
		t.Fatalf("MessageLimit = %d, %v; want %d", got, err, limit-batchOverhead)
	}
	big := kafka.Message{Topic: "small", Value: make([]byte, limit)}
	err = w.Enqueue(kafka.Message{Topic: "small", Value: []byte("ok")}, big)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Index != 1 || tl.Limit != limit-batchOverhead || !errors.Is(err, kafka.MessageSizeTooLarge) {
		t.Fatalf("Enqueue of a message over the topic's limit = %v", err)
	}
	// 200 messages of 1 KB: 200 KB, ten times what one batch may hold.
	msgs := make([]kafka.Message, 200)
	for i := range msgs {
		msgs[i] = kafka.Message{Topic: "small", Value: make([]byte, 1000)}
	}
	if err := w.Enqueue(msgs...); err != nil {
		t.Fatal(err)
	}
	c.waitOK(t, 200, 20*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) < 10 {
		t.Errorf("200 KB went out in %d requests, under a 20 KB limit", len(c.calls))
	}
}
