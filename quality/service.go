package quality

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// Deps are what a Service uses; the caller keeps ownership of them.
// Brokers, Redis, Registry, Schemas and Sink are required.
type Deps struct {
	Brokers []string
	// Dialer opens the Kafka connections (TLS, SASL); nil is plain TCP.
	Dialer *kafka.Dialer
	// Redis holds the retrain decision, the cooldowns and the latest
	// quality of each version (for the workers' status pages).
	Redis redis.UniversalClient
	// Registry tells the stages and holdout metrics of the versions, and
	// takes the live policy's promotions and rollbacks.
	Registry *registry.Registry
	// Schemas decodes predictions and labels.
	Schemas *schemas.Client
	// Sink publishes QualityReports and quality RetrainRequested events.
	Sink    drift.Sink
	Logger  *slog.Logger // nil: slog.Default()
	Metrics *Metrics     // nil: none
	// Reader, when set, adjusts each consumer's config (timings).
	Reader func(*consumers.ReaderConfig)
}

// Service joins labels with predictions and keeps live quality per model
// version and stage: metrics, QualityReports, the quality retrain trigger
// and the live policy. Create it with New and run it with Run.
type Service struct {
	cfg     Config
	deps    Deps
	dec     *schemas.Decoder
	log     *slog.Logger
	met     *Metrics
	epoch   string
	models  *models
	join    *joiner
	windows map[windowKey]*window
	seq     map[windowKey]int64
	reports int64                   // reports closed, for their ids
	unsent  []*drift.RetrainRequest // admitted, not yet emitted
	live    *live
	gate    *drift.Gate
	z       float64 // the one-sided normal quantile of cfg.Confidence
	now     func() time.Time
}

// New checks cfg (after defaults) and deps and returns a Service.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if len(deps.Brokers) == 0 || deps.Redis == nil || deps.Registry == nil || deps.Schemas == nil || deps.Sink == nil {
		return nil, errors.New("quality: the service needs brokers, Redis, the model registry, the schema registry and a sink")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &Service{
		cfg: cfg, deps: deps, dec: schemas.NewDecoder(deps.Schemas, 0),
		log: deps.Logger.With("component", "quality"), met: deps.Metrics, epoch: hex.EncodeToString(b[:]),
		models: newModels(deps.Registry), windows: map[windowKey]*window{}, seq: map[windowKey]int64{},
		gate: drift.NewGate(deps.Redis, cfg.Decision), z: normalQuantile(cfg.Confidence), now: time.Now,
	}
	s.join = newJoiner(&s.cfg)
	s.live = newLive(s)
	return s, nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// source is one consumed topic.
type source int

const (
	fromPredictions source = iota
	fromShadow
	fromLabels
)

// item is one fetched and decoded message.
type item struct {
	from source
	rec  map[string]any
	msg  kafka.Message
	err  error
}

// tickEvery is how often the loop expires, closes windows by time, reads
// the registry and commits.
const tickEvery = 250 * time.Millisecond

// Run consumes predictions, shadow predictions and labels until ctx ends,
// then returns nil after its consumers stopped and committed. Everything
// but fetching and decoding happens on Run's own goroutine.
func (s *Service) Run(ctx context.Context) error {
	topics := []string{s.cfg.PredictionsTopic, s.cfg.ShadowTopic, s.cfg.LabelsTopic}
	readers := make([]*consumers.Reader, 0, len(topics))
	closeAll := func() error {
		var errs []error
		for _, rd := range readers {
			if err := rd.Close(); err != nil && !errors.Is(err, consumers.ErrClosed) {
				errs = append(errs, fmt.Errorf("closing %s reader: %w", rd.Topic(), err))
			}
		}
		return errors.Join(errs...)
	}
	for _, topic := range topics {
		rc := consumers.ReaderConfig{Brokers: s.deps.Brokers, Topic: topic, GroupID: s.cfg.Group + "-" + topic,
			Dialer: s.deps.Dialer, StartOffset: consumers.StartEarliest, Logger: s.log}
		if s.deps.Reader != nil {
			s.deps.Reader(&rc)
		}
		rd, err := consumers.NewReader(rc)
		if err != nil {
			_ = closeAll()
			return fmt.Errorf("quality: consuming %s: %w", topic, err)
		}
		readers = append(readers, rd)
	}
	s.log.Info("quality service running", "predictions", s.cfg.PredictionsTopic, "shadow", s.cfg.ShadowTopic,
		"labels", s.cfg.LabelsTopic, "reports", s.cfg.ReportsTopic, "window_events", s.cfg.WindowEvents,
		"margin", s.cfg.Margin, "live", s.cfg.Live.Enabled)
	in := make(chan item, 4096)
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, rd := range readers {
		wg.Go(func() { s.fetch(fctx, rd, source(i), in) })
	}
	last := make([]map[int]kafka.Message, len(readers))
	for i := range last {
		last[i] = map[int]kafka.Message{}
	}
	commit := func(cctx context.Context) {
		for i, rd := range readers {
			if len(last[i]) == 0 {
				continue
			}
			msgs := make([]kafka.Message, 0, len(last[i]))
			for _, m := range last[i] {
				msgs = append(msgs, m)
			}
			if err := rd.Commit(cctx, msgs...); err != nil {
				s.log.Warn("committing", "topic", rd.Topic(), "err", err)
			}
			clear(last[i])
		}
	}
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			wg.Wait()
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			commit(cctx)
			cancel()
			return closeAll()
		case <-tick.C:
			s.tick(ctx)
			commit(ctx)
		case it := <-in:
			last[it.from][it.msg.Partition] = it.msg
			s.handle(ctx, it)
		}
	}
}

// fetch fetches and decodes messages from rd into in until ctx ends.
// Predictions older than prediction_ttl are passed over undecoded.
func (s *Service) fetch(ctx context.Context, rd *consumers.Reader, from source, in chan<- item) {
	for {
		m, err := rd.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, consumers.ErrClosed) {
				return
			}
			s.log.Warn("fetching", "topic", rd.Topic(), "err", err)
			if !backoff.Sleep(ctx, time.Second) {
				return
			}
			continue
		}
		it := item{from: from, msg: m}
		if from == fromLabels || s.now().Sub(m.Time) < s.cfg.PredictionTTL {
			it.rec, it.err = s.decode(ctx, m.Value)
		}
		select {
		case in <- it:
		case <-ctx.Done():
			return
		}
	}
}

// decode decodes a framed record, waiting out a schema registry that
// cannot be reached.
func (s *Service) decode(ctx context.Context, framed []byte) (map[string]any, error) {
	return s.dec.DecodeWaiting(ctx, framed, s.log)
}

// handle joins one fetched record.
func (s *Service) handle(ctx context.Context, it item) {
	now := s.now()
	if it.from == fromLabels {
		if it.err != nil {
			s.met.label(labelInvalid)
			return
		}
		l, err := ParseLabel(it.rec)
		if err != nil {
			s.met.label(labelInvalid)
			return
		}
		if e, ok := s.join.label(l, now); ok {
			s.joined(ctx, e, l, now)
		}
		return
	}
	if it.rec == nil {
		return // too old to wait for a label, or undecodable
	}
	p, ok := parsePrediction(it.rec, now)
	if !ok {
		return
	}
	s.met.prediction(it.from == fromShadow)
	if e, l, ok := s.join.prediction(&p, it.from == fromShadow, now); ok {
		s.joined(ctx, e, l, now)
	}
}

// tick expires what waited too long, closes windows by time, follows the
// registry and updates the pending gauges.
func (s *Service) tick(ctx context.Context) {
	now := s.now()
	for range s.join.expire(now) {
		s.met.label(labelUnmatched)
	}
	s.met.setPending(len(s.join.preds), len(s.join.labels))
	for k, w := range s.windows {
		if now.Sub(w.opened) >= s.cfg.WindowDuration && w.s.len() >= s.cfg.MinWindowEvents {
			s.close(ctx, k, w)
		}
	}
	s.live.sync(ctx, now)
	if err := s.send(ctx); err != nil {
		s.log.Warn("quality retrain request", "err", err)
	}
}
