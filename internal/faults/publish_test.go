package faults

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/schemas"
)

// publisher writes demo events with ledger ids (prefix + sequence number)
// to the input topic, acks=all, and adds each id to the ledger once the
// broker has acknowledged it. Not safe for concurrent use.
type publisher struct {
	w      *kafka.Writer
	enc    *schemas.Encoder
	gen    *demo.Generator
	l      *ledger
	prefix string
	seq    int
	// mutate, if set, changes a record before it is encoded.
	mutate func(id string, rec map[string]any)
}

func newPublisher(t *testing.T, addr string, enc *schemas.Encoder, l *ledger, prefix string) *publisher {
	tr := &kafka.Transport{}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: inputTopic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000,
		WriteTimeout: 5 * time.Second, MaxAttempts: 3, Transport: tr}
	t.Cleanup(func() { w.Close(); tr.CloseIdleConnections() })
	return &publisher{w: w, enc: enc, gen: demo.NewGenerator(seedOf(prefix), demo.WithCards(64)), l: l, prefix: prefix}
}

func seedOf(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return int64(h.Sum64() >> 1)
}

// next builds the next n messages and their ids.
func (p *publisher) next(n int) ([]kafka.Message, []string, error) {
	msgs := make([]kafka.Message, n)
	ids := make([]string, n)
	for i := range msgs {
		rec := p.gen.Next()
		ids[i] = fmt.Sprintf("%s-%06d", p.prefix, p.seq)
		p.seq++
		rec["event_id"] = ids[i]
		if p.mutate != nil {
			p.mutate(ids[i], rec)
		}
		v, err := p.enc.Append(nil, rec)
		if err != nil {
			return nil, nil, err
		}
		msgs[i] = kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v}
	}
	return msgs, ids, nil
}

// publish writes n events, retrying the same messages until the broker
// acknowledges them or ctx ends. A retry after a failure the broker may
// have half-done can write an event twice; the ledger counts ids, so that
// shows up as a duplicate output, never as a lost one.
func (p *publisher) publish(ctx context.Context, n int) error {
	msgs, ids, err := p.next(n)
	if err != nil {
		return err
	}
	for {
		err := p.w.WriteMessages(ctx, msgs...)
		if err == nil {
			p.l.add(ids...)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("publishing %d events: %w", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publishOversized writes one event whose value is size bytes and not
// Avro (a bad magic byte: it is dead-lettered), with a ledger id, and
// returns the value's SHA-256 in hex: its dead letter, too large for the
// dead-letter topic, carries only a prefix of it.
func (p *publisher) publishOversized(ctx context.Context, size int) (id, sha string, err error) {
	msgs, ids, err := p.next(1)
	if err != nil {
		return "", "", err
	}
	v := make([]byte, size)
	copy(v, msgs[0].Value)
	v[0] = 7
	for i := len(msgs[0].Value); i < size; i++ {
		v[i] = byte(i)
	}
	sum := sha256.Sum256(v)
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: p.w.Addr, Topic: inputTopic, Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, BatchBytes: 2 << 20, WriteTimeout: 10 * time.Second, Transport: tr}
	defer w.Close()
	for {
		err := w.WriteMessages(ctx, kafka.Message{Key: msgs[0].Key, Value: v})
		if err == nil {
			p.l.add(ids...)
			return ids[0], hex.EncodeToString(sum[:]), nil
		}
		if ctx.Err() != nil {
			return "", "", fmt.Errorf("publishing an oversized event: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stream publishes total events in chunks, one chunk every interval, in
// the background; wait returns the first error.
type stream struct {
	done chan struct{}
	err  error
	once sync.Once
	stop context.CancelFunc
}

func (p *publisher) stream(total, chunk int, every time.Duration) *stream {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	s := &stream{done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for sent := 0; sent < total; sent += chunk {
			if err := p.publish(ctx, min(chunk, total-sent)); err != nil {
				s.err = err
				return
			}
			select {
			case <-ctx.Done():
				s.err = ctx.Err()
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// wait blocks until the stream has published everything.
func (s *stream) wait(t *testing.T) {
	t.Helper()
	<-s.done
	s.stop()
	if s.err != nil {
		t.Fatalf("publishing: %v", s.err)
	}
}
