package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/schemas"
)

// Config says what to publish and how fast.
type Config struct {
	Brokers     []string
	RegistryURL string
	Topic       string
	// Count is how many events to publish; 0 means until ctx ends.
	Count int
	// Rate is events per second; 0 publishes as fast as the broker takes them.
	Rate float64
	// Seed makes the event stream reproducible.
	Seed int64
	// Generator options (drift, key pool).
	Options []demo.Option
	// BatchSize is how many events go in one write (default 500).
	BatchSize int
	// Progress, if set, is called after every write with the running count.
	Progress func(sent int)
	// Labels also publishes each event's ground truth (a quality.Label) to
	// LabelsTopic (default "labels"), keyed by event id, once the event
	// itself is acknowledged.
	Labels      bool
	LabelsTopic string
	// LabelDelay holds each label back this long after its event is
	// published (ground truth arrives late); Run waits for the last ones
	// before it returns, unless ctx ends first.
	LabelDelay time.Duration
}

// Result is what a run published.
type Result struct {
	Sent     int
	Elapsed  time.Duration
	SchemaID int32
	// Labels is how many labels were published (Config.Labels).
	Labels int
}

// Run publishes events until Count is reached or ctx ends. Events are
// written with acks=all and keyed by entity_id. Not safe to call concurrently
// on one Config with a Progress func that is not.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" || cfg.RegistryURL == "" {
		return Result{}, errors.New("loadgen: brokers, topic and registry URL are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	client := schemas.NewClient(cfg.RegistryURL, nil)
	enc, err := schemas.NewEncoder(ctx, client, schemas.Subject(cfg.Topic), schemas.TransactionSchema())
	if err != nil {
		return Result{}, fmt.Errorf("registering input schema: %w", err)
	}
	// The writers' own transport, closed when Run returns: kafka-go's
	// default one keeps its connections (and goroutines) for good.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	labels, err := newLabeller(ctx, cfg, client, tr)
	if err != nil {
		return Result{}, err
	}
	defer labels.close()
	w := &kafka.Writer{
		Transport:    tr,
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        cfg.Topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    cfg.BatchSize,
		// As Kafka's own producers do: a broker that creates topics on
		// first use (sluice dev) creates this one.
		AllowAutoTopicCreation: true,
	}
	defer w.Close()
	gen := demo.NewGenerator(cfg.Seed, cfg.Options...)
	res := Result{SchemaID: enc.ID()}
	start := time.Now()
	msgs := make([]kafka.Message, 0, cfg.BatchSize)
	for cfg.Count == 0 || res.Sent < cfg.Count {
		n := cfg.BatchSize
		if cfg.Rate > 0 {
			// Open loop: send what is due by now, at most one batch.
			due := int(time.Since(start).Seconds()*cfg.Rate) - res.Sent
			if due <= 0 {
				next := start.Add(time.Duration(float64(res.Sent+1) / cfg.Rate * float64(time.Second)))
				select {
				case <-ctx.Done():
					res.Elapsed = time.Since(start)
					return res, nil
				case <-time.After(time.Until(next)):
				}
				continue
			}
			n = min(n, due)
		}
		if cfg.Count > 0 {
			n = min(n, cfg.Count-res.Sent)
		}
		msgs = msgs[:0]
		for i := 0; i < n; i++ {
			rec, fraud := gen.NextLabelled()
			rec["event_time"] = time.Now()
			value, err := enc.Append(nil, rec)
			if err != nil {
				return res, fmt.Errorf("encoding event: %w", err)
			}
			if err := labels.add(rec["event_id"].(string), fraud); err != nil {
				return res, err
			}
			msgs = append(msgs, kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: value})
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				break
			}
			return res, fmt.Errorf("publishing events: %w", err)
		}
		res.Sent += n
		sent, err := labels.flush(ctx)
		res.Labels += sent
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return res, err
		}
		if cfg.Progress != nil {
			cfg.Progress(res.Sent)
		}
	}
	res.Elapsed = time.Since(start)
	if ctx.Err() == nil {
		n, err := labels.drain(ctx)
		res.Labels += n
		if err != nil && ctx.Err() == nil {
			return res, err
		}
	}
	return res, nil
}
