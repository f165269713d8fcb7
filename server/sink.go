package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

// eventSink publishes sluice's own events (drift reports, retrain
// requests, model events): it registers each schema under <topic>-value on
// first use and writes Confluent-framed Avro with acks=all. It implements
// drift.Sink and is safe for concurrent use.
type eventSink struct {
	client *schemas.Client
	w      *producers.Writer

	mu   sync.Mutex
	encs map[string]*schemas.Encoder // by topic
}

// NewEventSink returns the drift.Sink that publishes sluice's own events
// (drift reports, retrain requests, quality reports) through w, which must
// have no fixed topic, registering each schema with client on first use.
// It is safe for concurrent use.
func NewEventSink(client *schemas.Client, w *producers.Writer) drift.Sink {
	return newEventSink(client, w)
}

func newEventSink(client *schemas.Client, w *producers.Writer) *eventSink {
	return &eventSink{client: client, w: w, encs: map[string]*schemas.Encoder{}}
}

// Emit encodes native with schema and writes it to topic under key.
func (s *eventSink) Emit(ctx context.Context, topic, key string, native map[string]any, schema string) error {
	enc, err := s.encoder(ctx, topic, schema)
	if err != nil {
		return err
	}
	v, err := enc.Append(nil, native)
	if err != nil {
		return fmt.Errorf("encoding %s event: %w", topic, err)
	}
	if err := s.w.Write(ctx, kafka.Message{Topic: topic, Key: []byte(key), Value: v}); err != nil {
		return fmt.Errorf("publishing to %s: %w", topic, err)
	}
	return nil
}

func (s *eventSink) encoder(ctx context.Context, topic, schema string) (*schemas.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.encs[topic]; ok {
		return e, nil
	}
	e, err := schemas.NewEncoder(ctx, s.client, schemas.Subject(topic), schema)
	if err != nil {
		return nil, fmt.Errorf("registering the %s schema: %w", topic, err)
	}
	s.encs[topic] = e
	return e, nil
}
