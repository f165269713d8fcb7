package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

// Clients are how a worker reaches the outside, built once by its caller
// (server from the config's TLS and SASL settings; tests and the bench in
// plain TCP).
type Clients struct {
	// Brokers are the bootstrap addresses of the reader and the writer.
	Brokers []string
	// Dialer opens the group reader's connections (nil: plain TCP).
	Dialer *kafka.Dialer
	// Transport carries the writer's requests (nil: one of the writer's
	// own).
	Transport *kafka.Transport
	// Registry is the schema registry: writer schemas are read from it and
	// the Prediction schema is registered with it.
	Registry *schemas.Client
}

// Config is what a worker is configured with.
type Config struct {
	// Pipeline is the pipeline's configuration (defaults are applied).
	Pipeline pipeline.Config
	// Consumer tunes the group reader (session, heartbeat and rebalance
	// timeouts, fetch max wait, join backoff, ...). Its Topic, GroupID and
	// WatchTopics are the pipeline's; Brokers, Dialer and Logger default to
	// the Clients' and the Parts'.
	Consumer consumers.ReaderConfig
	// Writer tunes the asynchronous writer. Its Topic is left empty (every
	// output names its own); Brokers and Transport default to the Clients'.
	Writer producers.WriterConfig
}

// Parts are what the worker scores with and feeds, beside Kafka.
type Parts struct {
	Models   pipeline.Models   // required
	Observer pipeline.Observer // optional: the drift tap
	Keeper   pipeline.Keeper   // optional: the feature log
	// OnLatency, if set, is pipeline.Deps.OnLatency.
	OnLatency func(time.Duration)
	// Logger receives the worker's log (default slog.Default()).
	Logger *slog.Logger
	// Metrics receives the worker's series (pipeline, consumer, producer,
	// lag, missing topics): one registry per worker.
	Metrics prometheus.Registerer
}

// Worker is a pipeline.Worker on a consumer group and an asynchronous
// writer. Run it with Run; the pipeline's methods (Ready, NotReady, Stuck,
// Predict, Serving) are safe for concurrent use while it runs.
type Worker struct {
	*pipeline.Worker
	reader *consumers.Reader
}

// New registers the Prediction schema under <output_topic>-value, builds the
// worker's reader, tracker, writer and decoder, and the pipeline on them;
// nothing is fetched until Run.
func New(ctx context.Context, cfg Config, c Clients, p Parts) (*Worker, error) {
	pc := cfg.Pipeline.WithDefaults()
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	if p.Metrics == nil {
		return nil, fmt.Errorf("worker: Parts.Metrics is required")
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	enc, err := schemas.NewEncoder(ctx, c.Registry, schemas.Subject(pc.OutputTopic), schemas.PredictionSchema())
	if err != nil {
		return nil, &SchemaError{Subject: schemas.Subject(pc.OutputTopic), Err: err}
	}
	rc := cfg.Consumer
	if rc.Brokers == nil {
		rc.Brokers = c.Brokers
	}
	if rc.Dialer == nil {
		rc.Dialer = c.Dialer
	}
	if rc.Logger == nil {
		rc.Logger = p.Logger
	}
	rc.Topic, rc.GroupID = pc.InputTopic, pc.Group
	// Nothing is fetched while an output topic is missing.
	rc.WatchTopics = []string{pc.OutputTopic, pc.DLQTopic}
	reader, err := consumers.NewReader(rc)
	if err != nil {
		return nil, fmt.Errorf("creating the reader: %w", err)
	}
	src := newSource(reader, consumers.NewTracker(reader, pc.MaxInFlight, consumers.NewMetrics(p.Metrics)), pc)
	wc := cfg.Writer
	if wc.Brokers == nil {
		wc.Brokers = c.Brokers
	}
	if wc.Transport == nil {
		wc.Transport = c.Transport
	}
	wc.Topic = "" // per-message topic: predictions and dead letters share the writer
	pm := producers.NewMetrics(p.Metrics)
	w, err := pipeline.New(pc, pipeline.Deps{
		Source: src,
		Sink: func(done pipeline.Completion) (pipeline.Sink, error) {
			return producers.NewAsyncWriter(wc, pm, done)
		},
		Decoder:            schemas.NewDecoder(c.Registry, pc.MaxRecordBytes),
		PredictionSchemaID: enc.ID(),
		Models:             p.Models,
		Observer:           p.Observer,
		Keeper:             p.Keeper,
		OnLatency:          p.OnLatency,
		Logger:             p.Logger,
		Metrics:            pipeline.NewMetrics(p.Metrics),
	})
	if err != nil {
		reader.Close()
		return nil, err
	}
	registerMetrics(p.Metrics, reader, pc)
	return &Worker{Worker: w, reader: reader}, nil
}

// SchemaError is New's error when the Prediction schema could not be
// registered, so that a caller can say which registry it asked.
type SchemaError struct {
	Subject string
	Err     error
}

func (e *SchemaError) Error() string {
	return "registering the prediction schema under " + e.Subject + ": " + e.Err.Error()
}

// Unwrap returns the registry client's error.
func (e *SchemaError) Unwrap() error { return e.Err }

// Health returns the standing of the worker's group reader: membership,
// assigned partitions, missing topics, last broker contact. Safe for
// concurrent use.
func (w *Worker) Health() consumers.Health { return w.reader.Health() }

// Lag returns the consumer lag of the partitions assigned to this worker:
// end offsets minus the group's committed offsets (see
// consumers.Reader.Lag). Safe for concurrent use.
func (w *Worker) Lag() int64 { return w.reader.Lag() }

// Close leaves the group and stops the reader of a worker that will not
// Run (Run closes it itself); closing twice is harmless. A process that
// gives up on a route before it starts calls it.
func (w *Worker) Close() error { return w.reader.Close() }
