package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/featurelog"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/oip"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/security"
	"github.com/sluice-ml/sluice/status"
	"github.com/sluice-ml/sluice/worker"
)

// Ready describes a running worker once it has started; it is handed to
// the onReady callback of Run.
type Ready struct {
	AdminAddr net.Addr
	Model     *inference.Model
	Worker    *worker.Worker
	Registry  *prometheus.Registry
}

// run is Run with log already redacting cfg's secrets.
func run(ctx context.Context, cfg config.Config, log *slog.Logger, onReady func(Ready)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	err := inference.Load()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	im := inference.NewMetrics(reg)
	// A model.dir model serves until the registry names a production
	// version; without model.dir, the registry's production version is
	// loaded by the watcher's first check below. The swapper is closed
	// last, after the watcher and worker.
	var model *inference.Model
	if cfg.Model.Dir != "" {
		if model, err = LoadModelDir(cfg.Model, cfg.Inference, im); err != nil {
			return err
		}
		log.Info("model loaded", "model", model.Name(), "version", model.Version(), "provider", model.Provider(), "dir", cfg.Model.Dir)
	} else if cfg.Redis.URL == "" {
		return noModelError(cfg.Model.Name, "redis.url is empty too")
	}
	sw := inference.NewSwapper(model)
	defer sw.Close()

	client := schemas.NewClient(cfg.Registry.URL, nil)
	dialer, transport, err := kafkaClients(ctx, cfg.Kafka, log)
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections() // after the writers below have closed
	var rdb *redis.Client
	if cfg.Redis.URL != "" {
		if rdb, err = security.NewRedis(cfg.Redis, log); err != nil {
			return err
		}
		defer rdb.Close()
	}
	events, err := producers.NewWriter(producers.WriterConfig{Brokers: cfg.Kafka.Brokers, Transport: transport}, producers.NewMetrics(reg))
	if err != nil {
		return err
	}
	defer events.Close()
	sink := producers.NewEventSink(client, events)

	var keeper pipeline.Keeper
	if cfg.Retrain.KeepFeatures {
		if rdb == nil {
			return fmt.Errorf("retrain.keep_features: scored events are kept in Redis; set redis.url")
		}
		keeper = featurelog.New(rdb, cfg.Retrain.FeatureTTL, featurelog.WithMaxEvents(cfg.Retrain.MaxKeptEvents))
	}
	// The drift tap forwards to the monitor of the version in service,
	// which the drift follower below keeps current.
	var observer pipeline.Observer
	active := &drift.Active{}
	if cfg.Drift.Enabled {
		observer = active
	}
	wk, err := worker.New(ctx, worker.Config{
		Pipeline: cfg.Pipeline,
		Consumer: readerTuning(cfg.Kafka.Consumer),
	}, worker.Clients{Brokers: cfg.Kafka.Brokers, Dialer: dialer, Transport: transport, Registry: client},
		worker.Parts{Models: sw, Observer: observer, Keeper: keeper, Logger: log, Metrics: reg})
	var se *worker.SchemaError
	if errors.As(err, &se) {
		return fmt.Errorf("registering prediction schema at %s: %w", config.RedactURL(cfg.Registry.URL), se.Err)
	}
	if err != nil {
		return err
	}

	var watcher *registry.Watcher
	if rdb != nil {
		if watcher, err = newWatcher(cfg, rdb, client, events, sw, im, reg, log); err != nil {
			return err
		}
		if err := firstSync(ctx, cfg, watcher, sw, rdb, log); err != nil {
			return err
		}
	}
	var drifts *driftFollower
	if cfg.Drift.Enabled {
		if drifts, err = newDriftFollower(cfg, sw, rdb, sink, active, reg, log); err != nil {
			return err
		}
	}
	red := security.RedactorFor(cfg) // the details carry errors: no secret in them
	adm := admin.New(cfg.Admin, reg, func() []admin.Condition { return conditions(wk.Worker, red) })
	var gather prometheus.Gatherer = reg
	if rdb != nil { // the live quality the retrainer's quality service keeps in Redis
		gather = prometheus.Gatherers{reg, quality.NewStatusGatherer(rdb, cfg.Model.Name)}
	}
	sampler, err := status.NewSampler(gather, status.Config{})
	if err != nil {
		return err
	}
	sampler.Register(adm)                   // the status page at / and /api/status
	oip.New(wk, oip.Config{}).Register(adm) // the Open Inference Protocol at /v2
	addr, err := adm.Listen()
	if err != nil {
		return err
	}
	log.Info("admin server listening", "addr", addr.String())
	if onReady != nil {
		onReady(Ready{AdminAddr: addr, Model: sw.Current(), Worker: wk, Registry: reg})
	}
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	adminErr := make(chan error, 1)
	go func() { adminErr <- adm.Run(adminCtx) }()
	samplerDone := make(chan struct{})
	go func() { defer close(samplerDone); _ = sampler.Run(adminCtx) }()
	// Side components run until the worker has drained: the watcher (so a
	// swap cannot close a model mid-drain) and the drift monitor (so the
	// last events are counted).
	sideCtx, stopSide := context.WithCancel(context.WithoutCancel(ctx))
	var side sync.WaitGroup
	if watcher != nil {
		side.Add(1)
		go func() {
			defer side.Done()
			if err := watcher.Run(sideCtx); err != nil {
				log.Warn("model watcher", "err", err)
			}
		}()
	}
	if drifts != nil {
		side.Add(1)
		go func() { defer side.Done(); drifts.Run(sideCtx) }()
	}
	werr := wk.Run(ctx)
	stopSide()
	side.Wait()
	stopAdmin()
	<-samplerDone
	if aerr := <-adminErr; aerr != nil && werr == nil {
		werr = aerr
	}
	return werr
}

// LoadModelDir loads model.onnx and signature.yaml from m.Dir.
func LoadModelDir(m config.Model, sc inference.SessionConfig, metrics *inference.Metrics) (*inference.Model, error) {
	sig, err := inference.LoadSignature(filepath.Join(m.Dir, "signature.yaml"))
	if err != nil {
		return nil, fmt.Errorf("model.dir: %w (leave model.dir empty to serve the model registry's production version of %s)", err, m.Name)
	}
	onnx, err := os.ReadFile(filepath.Join(m.Dir, "model.onnx"))
	if err != nil {
		return nil, fmt.Errorf("model.dir: %w", err)
	}
	model, err := inference.LoadModel(m.Name, m.Version, onnx, sig, sc, metrics)
	if err != nil {
		return nil, fmt.Errorf("loading model %s version %s from %s: %w", m.Name, m.Version, m.Dir, err)
	}
	return model, nil
}

// conditions converts the worker's reasons not to be ready for /readyz.
func conditions(w *pipeline.Worker, red *security.Redactor) []admin.Condition {
	var out []admin.Condition
	for _, c := range w.NotReady() {
		out = append(out, admin.Condition{Name: c.Name, Detail: red.String(c.Detail)})
	}
	return out
}

// readerTuning is a group reader's config with what sluice.yaml's
// kafka.consumer sets.
func readerTuning(t consumers.Tuning) consumers.ReaderConfig {
	var rc consumers.ReaderConfig
	t.Apply(&rc)
	return rc
}
