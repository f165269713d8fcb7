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
// the onReady callback of Run. Model and Worker are the first route's.
type Ready struct {
	AdminAddr net.Addr
	Model     *inference.Model
	Worker    *worker.Worker
	Registry  *prometheus.Registry
	// Routes are every route's worker, in the order of the config.
	Routes []RouteWorker
}

// RouteWorker is one route's name and worker.
type RouteWorker struct {
	Name   string
	Worker *worker.Worker
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

	// One route from the top-level keys stops the process when its model
	// cannot be served, as a worker always did; with routes, a route
	// whose model cannot load waits for it, and the others serve.
	specs := cfg.Effective()
	implicit := specs[0].Implicit
	order, byName := models(cfg, specs, reg)
	for _, m := range order {
		if err := m.load(cfg.Redis.URL != "", log); err != nil {
			if implicit {
				return err
			}
			log.Error("model not loaded; its routes wait for a registry version", "model", m.spec.Name, "err", err)
		}
		defer m.sw.Close() // after the watchers and workers
	}

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
	// The process's own writer (model events, drift reports, retrain
	// requests) counts under route="".
	events, err := producers.NewWriter(producers.WriterConfig{Brokers: cfg.Kafka.Brokers, Transport: transport},
		producers.NewMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"route": ""}, reg)))
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
	routes := make([]*route, len(specs))
	for i, spec := range specs {
		if routes[i], err = newRoute(ctx, cfg, spec, byName[spec.Model.Name], worker.Clients{Brokers: cfg.Kafka.Brokers, Dialer: dialer, Transport: transport, Registry: client},
			keeper, reg, log); err != nil {
			for _, r := range routes[:i] {
				r.wk.Close()
			}
			return err
		}
	}

	if rdb != nil {
		rm := registry.NewMetrics(reg)
		for _, m := range order {
			if err := m.watch(ctx, cfg, rdb, client, events, rm, log); err != nil {
				if implicit {
					return err
				}
				log.Error("model has no version to serve yet; its routes wait", "model", m.spec.Name, "err", err)
			}
		}
	}
	for i, r := range routes {
		if !r.spec.Drift.Enabled {
			continue
		}
		if r.drifts, err = newDriftFollower(cfg, r.spec, r.model.sw, rdb, sink, r.active, routeRegisterer(reg, r.spec), r.log); err != nil {
			if !implicit {
				err = fmt.Errorf("routes[%d].%w", i, err)
			}
			return err
		}
	}
	red := security.RedactorFor(cfg) // the details carry errors: no secret in them
	adm := admin.NewRoutes(cfg.Admin, reg, func() []admin.Route {
		out := make([]admin.Route, len(routes))
		for i, r := range routes {
			out[i] = r.readiness(red)
		}
		return out
	})
	var gather prometheus.Gatherer = reg
	if rdb != nil { // the live quality the retrainer's quality service keeps in Redis
		gs := prometheus.Gatherers{reg}
		for _, m := range order {
			gs = append(gs, quality.NewStatusGatherer(rdb, m.spec.Name))
		}
		gather = gs
	}
	sampler, err := status.NewSampler(gather, status.Config{})
	if err != nil {
		return err
	}
	sampler.SetReadiness(adm.Readiness) // the page says why the worker is not ready
	sampler.Register(adm)               // the status page at / and /api/status
	backends := make([]oip.Backend, len(routes))
	for i, r := range routes {
		backends[i] = r.wk
	}
	oip.NewSet(backends, oip.Config{}).Register(adm) // the Open Inference Protocol at /v2
	addr, err := adm.Listen()
	if err != nil {
		return err
	}
	log.Info("admin server listening", "addr", addr.String(), "routes", len(routes), "models", len(order))
	if onReady != nil {
		rw := make([]RouteWorker, len(routes))
		for i, r := range routes {
			rw[i] = RouteWorker{Name: r.spec.Name, Worker: r.wk}
		}
		onReady(Ready{AdminAddr: addr, Model: routes[0].model.sw.Current(), Worker: routes[0].wk, Registry: reg, Routes: rw})
	}
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	adminErr := make(chan error, 1)
	go func() { adminErr <- adm.Run(adminCtx) }()
	samplerDone := make(chan struct{})
	go func() { defer close(samplerDone); _ = sampler.Run(adminCtx) }()
	// Side components run until the workers have drained: the watchers
	// (so a swap cannot close a model mid-drain) and the drift monitors
	// (so the last events are counted).
	sideCtx, stopSide := context.WithCancel(context.WithoutCancel(ctx))
	var side sync.WaitGroup
	for _, m := range order {
		if m.watcher == nil {
			continue
		}
		side.Add(1)
		go func() {
			defer side.Done()
			if err := m.watcher.Run(sideCtx); err != nil {
				log.Warn("model watcher", "model", m.spec.Name, "err", err)
			}
		}()
	}
	for _, r := range routes {
		if r.drifts != nil {
			side.Add(1)
			go func() { defer side.Done(); r.drifts.Run(sideCtx) }()
		}
	}
	werr := runRoutes(ctx, routes, implicit, log)
	stopSide()
	side.Wait()
	stopAdmin()
	<-samplerDone
	if aerr := <-adminErr; aerr != nil && werr == nil {
		werr = aerr
	}
	return werr
}

// newRoute builds one route's worker and drift tap, its series labelled
// with the route's name.
func newRoute(ctx context.Context, cfg config.Config, spec config.RouteSpec, m *model, clients worker.Clients,
	keeper pipeline.Keeper, reg prometheus.Registerer, log *slog.Logger) (*route, error) {
	r := &route{spec: spec, model: m, active: &drift.Active{}, log: log}
	if !spec.Implicit {
		r.log = log.With("route", spec.Name)
	}
	// The drift tap forwards to the monitor of the version in service,
	// which the route's drift follower keeps current.
	var observer pipeline.Observer
	if spec.Drift.Enabled {
		observer = r.active
	}
	wk, err := worker.New(ctx, worker.Config{
		Pipeline: spec.Pipeline,
		Consumer: readerTuning(cfg.Kafka.Consumer),
	}, clients, worker.Parts{Models: m.sw, Observer: observer, Keeper: keeper, Logger: r.log, Metrics: routeRegisterer(reg, spec)})
	var se *worker.SchemaError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("registering prediction schema at %s: %w", config.RedactURL(cfg.Registry.URL), se.Err)
	}
	if err != nil {
		return nil, err
	}
	r.wk = wk
	return r, nil
}

// routeRegisterer labels a route's series (pipeline, consumer, producer,
// lag, missing topics, drift) with route="<name>": a value from the
// configuration, never from an event.
func routeRegisterer(reg prometheus.Registerer, spec config.RouteSpec) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"route": spec.Name}, reg)
}

// runRoutes runs every route until ctx ends. A route that stops with an
// error stops the process (and its other routes drain) when it is the
// implicit route or is not optional; an optional route's error is logged
// and reported on /readyz while the others serve on.
func runRoutes(ctx context.Context, routes []*route, implicit bool, log *slog.Logger) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, len(routes))
	for _, r := range routes {
		go func() {
			err := r.run(rctx)
			switch {
			case err == nil || ctx.Err() != nil:
				err = nil
			case implicit:
			case r.spec.Optional:
				r.log.Error("optional route stopped; the other routes serve on", "err", err)
				err = nil
			default:
				err = fmt.Errorf("route %s: %w", r.spec.Name, err)
			}
			if err != nil {
				stop()
			}
			errs <- err
		}()
	}
	var first error
	for range routes {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
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

// readerTuning is a group reader's config with what sluice.yaml's
// kafka.consumer sets.
func readerTuning(t consumers.Tuning) consumers.ReaderConfig {
	var rc consumers.ReaderConfig
	t.Apply(&rc)
	return rc
}
