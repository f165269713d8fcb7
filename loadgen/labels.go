package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
)

// DefaultLabelsTopic is where Run publishes ground truth when Labels is set.
const DefaultLabelsTopic = retrain.DefaultLabelsTopic

// labeller publishes the ground truth of published events as quality.Label
// records (label 1 for fraud, 0 for legit), keyed by event id. A nil
// labeller publishes nothing. It is not safe for concurrent use.
type labeller struct {
	enc   *schemas.Encoder
	w     *kafka.Writer
	delay time.Duration
	msgs  []kafka.Message
	due   []time.Time // when each of msgs may be published
}

// newLabeller returns nil when cfg.Labels is not set.
func newLabeller(ctx context.Context, cfg Config, c *schemas.Client, tr *kafka.Transport) (*labeller, error) {
	if !cfg.Labels {
		return nil, nil
	}
	topic := cfg.LabelsTopic
	if topic == "" {
		topic = DefaultLabelsTopic
	}
	enc, err := schemas.NewEncoder(ctx, c, schemas.Subject(topic), quality.LabelSchema)
	if err != nil {
		return nil, fmt.Errorf("registering label schema: %w", err)
	}
	return &labeller{enc: enc, delay: cfg.LabelDelay, w: &kafka.Writer{
		Transport:    tr,
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
	lab := quality.Label{EventID: eventID, Time: time.Now()}
	if fraud {
		lab.Class = 1
	}
	v, err := l.enc.Append(nil, lab.Native())
	if err != nil {
		return fmt.Errorf("encoding label: %w", err)
	}
	l.msgs = append(l.msgs, kafka.Message{Key: []byte(eventID), Value: v})
	l.due = append(l.due, time.Now().Add(l.delay))
	return nil
}

// flush publishes the queued labels that are due and returns how many.
func (l *labeller) flush(ctx context.Context) (int, error) {
	if l == nil || len(l.msgs) == 0 {
		return 0, nil
	}
	now := time.Now()
	n := 0
	for n < len(l.due) && !l.due[n].After(now) {
		n++
	}
	if n == 0 {
		return 0, nil
	}
	err := l.w.WriteMessages(ctx, l.msgs[:n]...)
	clear(l.msgs[:n])
	l.msgs, l.due = l.msgs[n:], l.due[n:]
	if err != nil {
		return 0, fmt.Errorf("publishing labels: %w", err)
	}
	return n, nil
}

// drain waits for the labels still queued to be due and publishes them;
// it returns how many, or stops early when ctx ends.
func (l *labeller) drain(ctx context.Context) (int, error) {
	total := 0
	for l != nil && len(l.msgs) > 0 {
		select {
		case <-ctx.Done():
			return total, nil
		case <-time.After(time.Until(l.due[len(l.due)-1]) + time.Millisecond):
		}
		n, err := l.flush(ctx)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (l *labeller) close() {
	if l != nil {
		_ = l.w.Close()
	}
}
