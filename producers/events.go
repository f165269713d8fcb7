package producers

import (
	"context"
	"fmt"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/schemas"
)

// EventSink publishes sluice's own events (drift reports, retrain
// requests, quality reports, model events) as Confluent-framed Avro with
// acks=all: it registers each event's schema under <topic>-value on first
// use and writes through a Writer that names no topic. It implements
// drift.Sink. Safe for concurrent use.
type EventSink struct {
	client *schemas.Client
	w      *Writer

	mu   sync.Mutex
	encs map[string]*schemas.Encoder // by topic
}

// NewEventSink returns a sink that writes through w (which must have no
// fixed topic) and registers schemas with client.
func NewEventSink(client *schemas.Client, w *Writer) *EventSink {
	return &EventSink{client: client, w: w, encs: map[string]*schemas.Encoder{}}
}

// Emit encodes native with schema and writes it to topic under key,
// waiting for the brokers' acknowledgement. An error names the step that
// failed (registering, encoding, publishing).
func (s *EventSink) Emit(ctx context.Context, topic, key string, native map[string]any, schema string) error {
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

func (s *EventSink) encoder(ctx context.Context, topic, schema string) (*schemas.Encoder, error) {
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
