package retrain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/featurelog"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// Deps are the services a Retrainer uses. Brokers, Redis, Registry and
// Schemas are required; the caller keeps ownership of them.
type Deps struct {
	Brokers []string
	// Dialer opens the Kafka connections (TLS, SASL); nil is plain TCP.
	Dialer *kafka.Dialer
	// Redis holds the kept features and the retrainer's idempotency keys.
	Redis redis.UniversalClient
	// Registry is where new versions are registered and promoted.
	Registry *registry.Registry
	// Schemas reads the framed labels, requests and kept events.
	Schemas *schemas.Client
	Logger  *slog.Logger // nil: slog.Default()
	Metrics *Metrics     // nil: none
	// Reader, when set, adjusts each consumer's config (timings), the
	// retrainer's and the quality service's alike.
	Reader func(*consumers.ReaderConfig)
	// Sink publishes the quality service's QualityReports and quality
	// RetrainRequested events; nil runs no quality service.
	Sink drift.Sink
	// Quality receives the quality service's metrics; nil: none.
	Quality *quality.Metrics
	// Features, when set, is where kept inputs are read instead of a
	// featurelog.Log over Redis with the config's feature_ttl.
	Features KeptFeatures
}

// Retrainer answers retrain requests: it keeps the most recent labelled
// records (labels from the labels topic joined with the features workers
// kept in the feature log) and, for each RetrainRequested, trains, evaluates
// and registers a new version and applies the promotion policy. Create it
// with NewRetrainer and run it with Run; Retrain and Buffered are safe to
// call concurrently with Run.
type Retrainer struct {
	cfg      Config
	deps     Deps
	rdb      redis.UniversalClient
	reg      *registry.Registry
	dec      *schemas.Decoder
	features KeptFeatures
	ring     *ring
	log      *slog.Logger
	metrics  *Metrics
	session  inference.SessionConfig
	quality  *quality.Service // nil without a sink
}

// NewRetrainer checks cfg (after defaults) and deps and returns a
// Retrainer.
func NewRetrainer(cfg Config, deps Deps) (*Retrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if len(deps.Brokers) == 0 || deps.Redis == nil || deps.Registry == nil || deps.Schemas == nil {
		return nil, errors.New("retrain: the retrainer needs brokers, Redis, the model registry and the schema registry")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	log := deps.Logger.With("component", "retrainer")
	features := deps.Features
	if features == nil {
		features = featurelog.New(deps.Redis, cfg.FeatureTTL)
	}
	var qs *quality.Service
	if deps.Sink != nil {
		var err error
		if qs, err = quality.New(cfg.Quality, quality.Deps{
			Brokers: deps.Brokers, Dialer: deps.Dialer, Redis: deps.Redis, Registry: deps.Registry, Schemas: deps.Schemas,
			Sink: deps.Sink, Logger: deps.Logger, Metrics: deps.Quality, Reader: deps.Reader,
		}); err != nil {
			return nil, err
		}
	}
	return &Retrainer{
		quality:  qs,
		cfg:      cfg,
		deps:     deps,
		rdb:      deps.Redis,
		reg:      deps.Registry,
		dec:      schemas.NewDecoder(deps.Schemas, 0),
		features: features,
		ring:     newRing(cfg.BufferSize),
		log:      log,
		metrics:  deps.Metrics,
		session:  inference.SessionConfig{Provider: inference.ProviderCPU, Sessions: 1, IntraOpThreads: 1, Logger: log},
	}, nil
}

// Config returns the configuration in effect, defaults filled in.
func (r *Retrainer) Config() Config { return r.cfg }

// Buffered returns how many labelled records the next retrain would use.
func (r *Retrainer) Buffered() int { return r.ring.len() }

// Run consumes labels and retrain requests, and runs the quality service
// when there is one, until ctx ends, then returns nil after its consumers
// stopped and committed. Requests are handled one at a time, in order,
// while labels keep being joined.
func (r *Retrainer) Run(ctx context.Context) error {
	labels, err := r.reader(r.cfg.LabelsTopic, r.cfg.LabelsGroup)
	if err != nil {
		return err
	}
	requests, err := r.reader(r.cfg.RequestsTopic, r.cfg.Group)
	if err != nil {
		_ = labels.Close()
		return err
	}
	r.log.Info("retrainer running", "policy", r.cfg.Policy, "min_rows", r.cfg.MinRows,
		"buffer_size", r.cfg.BufferSize, "requests", r.cfg.RequestsTopic, "labels", r.cfg.LabelsTopic)
	var wg sync.WaitGroup
	var qerr error
	wg.Go(func() { r.runLabels(ctx, labels) })
	wg.Go(func() { r.runRequests(ctx, requests) })
	if r.quality != nil {
		wg.Go(func() { qerr = r.quality.Run(ctx) })
	}
	wg.Wait()
	return errors.Join(closeReader(labels), closeReader(requests), qerr)
}

func (r *Retrainer) reader(topic, group string) (*consumers.Reader, error) {
	rc := consumers.ReaderConfig{
		Brokers: r.deps.Brokers, Topic: topic, GroupID: group, Dialer: r.deps.Dialer,
		StartOffset: consumers.StartEarliest, Logger: r.log,
	}
	if r.deps.Reader != nil {
		r.deps.Reader(&rc)
	}
	rd, err := consumers.NewReader(rc)
	if err != nil {
		return nil, fmt.Errorf("retrain: consuming %s: %w", topic, err)
	}
	return rd, nil
}

func closeReader(rd *consumers.Reader) error {
	if err := rd.Close(); err != nil && !errors.Is(err, consumers.ErrClosed) {
		return fmt.Errorf("closing %s reader: %w", rd.Topic(), err)
	}
	return nil
}

// fetchLoop fetches messages into a channel until ctx ends; fetch errors
// other than the end are logged and retried after a pause.
func (r *Retrainer) fetchLoop(ctx context.Context, rd *consumers.Reader, msgs chan<- kafka.Message) {
	for {
		m, err := rd.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, consumers.ErrClosed) {
				return
			}
			r.log.Warn("fetching", "topic", rd.Topic(), "err", err)
			if !backoff.Sleep(ctx, time.Second) {
				return
			}
			continue
		}
		select {
		case msgs <- m:
		case <-ctx.Done():
			return
		}
	}
}

// commit commits msgs, on a context that outlives ctx by a few seconds so
// the last positions are kept at shutdown.
func (r *Retrainer) commit(ctx context.Context, rd *consumers.Reader, msgs ...kafka.Message) {
	if len(msgs) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := rd.Commit(cctx, msgs...); err != nil {
		r.log.Warn("committing", "topic", rd.Topic(), "err", err)
	}
}
