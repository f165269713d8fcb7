package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// Deps are the parts a Worker is built from, built outside it (package
// worker builds them on Kafka from configuration; the pipeline's tests
// build them in memory). The worker owns Source and the Sink it opens.
type Deps struct {
	Source  Source   // fetched records, their acknowledgements and commits
	Sink    OpenSink // where predictions and dead letters are written
	Decoder Decoder  // framed records into fields
	// PredictionSchemaID is the registry id of the Prediction schema under
	// <output_topic>-value, which every prediction is framed with.
	PredictionSchemaID int32
	Models             Models
	Observer           Observer // optional (drift)
	Keeper             Keeper   // optional (retraining: keeps scored inputs for the label join)
	// OnLatency, if set, is called with each prediction's end-to-end
	// latency (event_time to acknowledgement) from the sink's goroutines;
	// the benchmark records exact percentiles with it.
	OnLatency func(time.Duration)
	Logger    *slog.Logger
	Metrics   *Metrics
}

// Worker is one sluice worker. Create it with New and start it with Run.
type Worker struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	source Source
	sink   Sink

	decodeIn []chan *event
	batchIn  chan *event
	batchOut chan []*event
	partial  chan []*event // partial batches, taken only while no batch is being scored
	emitIn   chan []*event
	sideIn   chan sideWork // nil without an Observer or a Keeper
	retries  *retrier

	// syncMu guards serving and the sends of Predict into batchIn, so
	// that batchIn is closed only once no Predict is sending.
	syncMu  sync.RWMutex
	serving bool

	// infoModels are the versions sluice_model_info names (infer stage, under its take lock).
	infoModels []*inference.Model
}

// New checks cfg and builds a worker; nothing is started until Run.
func New(cfg Config, deps Deps) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Source == nil || deps.Sink == nil || deps.Decoder == nil || deps.Models == nil || deps.Metrics == nil {
		return nil, errors.New("pipeline: Source, Sink, Decoder, Models and Metrics are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	w := &Worker{cfg: cfg, deps: deps, log: deps.Logger, source: deps.Source}
	sink, err := deps.Sink(w.completed)
	if err != nil {
		return nil, fmt.Errorf("opening the sink: %w", err)
	}
	w.sink = sink
	w.retries = newRetrier(w)
	w.decodeIn = make([]chan *event, cfg.DecodeWorkers)
	per := max(cfg.Batch.MaxBatchSize, cfg.MaxInFlight/cfg.DecodeWorkers/4)
	for i := range w.decodeIn {
		w.decodeIn[i] = make(chan *event, per)
	}
	w.batchIn = make(chan *event, cfg.Batch.MaxBatchSize*2)
	// Unbuffered: with dispatch idle a partial batch leaves only when the
	// infer stage is waiting for it (see inference.Batcher).
	w.batchOut = make(chan []*event)
	w.partial = make(chan []*event)
	w.emitIn = make(chan []*event, 2)
	if deps.Observer != nil || deps.Keeper != nil {
		w.sideIn = make(chan sideWork, sideQueue)
	}
	m := deps.Metrics
	if cur, release := deps.Models.Acquire(); cur != nil {
		m.modelInfo.WithLabelValues(cur.Name(), cur.Version()).Set(1)
		release()
	} else {
		release()
	}
	m.queueDepth("decode", func() float64 {
		n := 0
		for _, c := range w.decodeIn {
			n += len(c)
		}
		return float64(n)
	})
	m.queueDepth("batch", func() float64 { return float64(len(w.batchIn)) })
	m.queueDepth("infer", func() float64 { return float64(len(w.batchOut)) })
	m.queueDepth("emit", func() float64 { return float64(len(w.emitIn)) })
	return w, nil
}

// Run consumes until ctx ends, then drains (see the package doc) and returns
// nil, or the first error that stopped a stage.
func (w *Worker) Run(ctx context.Context) error {
	// hard ends everything once the grace period after ctx has passed.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.cfg.ShutdownGrace, cancelHard)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	defer stopGrace()

	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	g := group{onErr: stopFetch}
	g.go_(func() error { return w.fetch(fetchCtx) })
	var decoders sync.WaitGroup
	for i := range w.decodeIn {
		decoders.Add(1)
		g.go_(func() error { defer decoders.Done(); return w.decode(hard, w.decodeIn[i]) })
	}
	w.syncMu.Lock()
	w.serving = true
	w.syncMu.Unlock()
	g.go_(func() error {
		decoders.Wait()
		w.syncMu.Lock()
		w.serving = false
		close(w.batchIn)
		w.syncMu.Unlock()
		return nil
	})
	batcher := inference.NewBatcher(w.cfg.Batch, w.batchIn, w.batchOut)
	batcher.OfferPartialOn(w.partial)
	g.go_(func() error { return batcher.Run(hard) }) // closes batchOut
	g.go_(func() error { defer close(w.emitIn); return w.infer(hard) })
	emitted := make(chan struct{})
	g.go_(func() error { defer close(emitted); return w.emit() })
	if w.sideIn != nil {
		g.go_(func() error { return w.side(hard) })
	}
	retryCtx, stopRetries := context.WithCancel(hard)
	g.go_(func() error { return w.retries.run(retryCtx) })
	commitCtx, stopCommitter := context.WithCancel(hard)
	committed := make(chan error, 1)
	go func() { committed <- w.source.RunCommitter(commitCtx, w.cfg.CommitInterval) }()

	// Wait for the pipeline to drain (or fail), then flush the sink so every
	// completion has run, then commit once more and close the source (a
	// consumer group's member leaves it).
	<-emitted
	stopRetries()
	err := g.wait()
	if cerr := w.sink.Close(); cerr != nil {
		w.log.Warn("closing the sink", "err", cerr)
	}
	stopCommitter()
	if cerr := <-committed; cerr != nil && !errors.Is(cerr, context.Canceled) {
		w.log.Warn("final commit", "err", cerr)
	}
	if c, ok := w.source.(io.Closer); ok {
		if cerr := c.Close(); cerr != nil {
			w.log.Warn("closing the source", "err", cerr)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if hard.Err() != nil && ctx.Err() != nil {
		w.log.Warn("shutdown grace period ran out; undelivered events will be redelivered", "grace", w.cfg.ShutdownGrace)
	}
	return nil
}

// group runs goroutines and keeps the first error.
type group struct {
	wg    sync.WaitGroup
	once  sync.Once
	err   error
	onErr func()
}

func (g *group) go_(fn func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(); err != nil {
			g.once.Do(func() { g.err = err; g.onErr() })
		}
	}()
}

func (g *group) wait() error { g.wg.Wait(); return g.err }
