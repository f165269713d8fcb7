package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
)

// DefaultLabelsTopic is where Run publishes ground truth when Labels is set.
const DefaultLabelsTopic = retrain.DefaultLabelsTopic

// labeller publishes the ground truth of published events as retrain.Label
// records (label 1 for fraud, 0 for legit), keyed by event id. A nil
// labeller publishes nothing. It is not safe for concurrent use.
type labeller struct {
	enc  *schemas.Encoder
	w    *kafka.Writer
	msgs []kafka.Message
}

// newLabeller returns nil when cfg.Labels is not set.
func newLabeller(ctx context.Context, cfg Config, c *schemas.Client) (*labeller, error) {
	if !cfg.Labels {
		return nil, nil
	}
	topic := cfg.LabelsTopic
	if topic == "" {
		topic = DefaultLabelsTopic
	}
	enc, err := schemas.NewEncoder(ctx, c, schemas.Subject(topic), retrain.LabelSchema)
	if err != nil {
		return nil, fmt.Errorf("registering label schema: %w", err)
	}
	return &labeller{enc: enc, w: &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    cfg.BatchSize,
		// As Kafka's own producers do: a broker that creates topics on
		// first use (sluice dev) creates this one.
		AllowAutoTopicCreation: true,
	}}, nil
}

// add queues the label of one event.
func (l *labeller) add(eventID string, fraud bool) error {
	if l == nil {
		return nil
	}
	lab := retrain.Label{EventID: eventID, Time: time.Now()}
	if fraud {
		lab.Class = 1
	}
	v, err := l.enc.Append(nil, lab.Native())
	if err != nil {
		return fmt.Errorf("encoding label: %w", err)
	}
	l.msgs = append(l.msgs, kafka.Message{Key: []byte(eventID), Value: v})
	return nil
}

// flush publishes the queued labels and returns how many.
func (l *labeller) flush(ctx context.Context) (int, error) {
	if l == nil || len(l.msgs) == 0 {
		return 0, nil
	}
	n := len(l.msgs)
	err := l.w.WriteMessages(ctx, l.msgs...)
	clear(l.msgs)
	l.msgs = l.msgs[:0]
	if err != nil {
		return 0, fmt.Errorf("publishing labels: %w", err)
	}
	return n, nil
}

func (l *labeller) close() {
	if l != nil {
		_ = l.w.Close()
	}
}
