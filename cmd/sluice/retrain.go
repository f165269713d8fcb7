package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/security"
	"github.com/sluice-ml/sluice/server"
)

// cmdRetrain is `sluice retrain`: the built-in retrainer, until SIGTERM.
func cmdRetrain(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("retrain", flag.ContinueOnError)
	path := fs.String("config", "", "path to sluice.yaml (kafka, redis, registry and models sections)")
	keys := map[string]string{"brokers": "kafka.brokers", "registry-url": "registry.url", "redis-url": "redis.url"}
	vals := map[string]*string{}
	for name, key := range keys {
		vals[name] = fs.String(name, "", "overrides "+key+" (env "+config.EnvName(key)+")")
	}
	def := retrain.Config{}.WithDefaults()
	policy := fs.String("policy", string(def.Policy), "promotion policy: manual (leave a candidate) or auto (promote when holdout AUC >= production's)")
	minRows := fs.Int("min-rows", def.MinRows, "fewest labelled records to train on")
	bufferSize := fs.Int("buffer-size", def.BufferSize, "most recent labelled records kept for training")
	featureTTL := fs.Duration("feature-ttl", def.FeatureTTL, "how long workers keep scored events (labels older than this are not joined)")
	labelWait := fs.Duration("label-wait", def.LabelWait, "how long a label waits for its event's features to be kept")
	httpAddr := fs.String("http-addr", "", "serve /metrics on this address (empty: off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if key, ok := keys[f.Name]; ok {
			set[key] = strings.TrimSpace(*vals[f.Name])
		}
	})
	c, err := loadConfig(*path, set)
	if err != nil {
		return security.RedactorFor(c).Error(err)
	}
	log = security.RedactorFor(c).Logger(log)
	p, err := retrain.ParsePolicy(*policy)
	if err != nil {
		return err
	}
	cfg := retrain.Config{Policy: p, MinRows: *minRows, BufferSize: *bufferSize, FeatureTTL: *featureTTL, LabelWait: *labelWait}
	if err := cfg.Validate(); err != nil {
		return err
	}

	lib, err := inference.FindLibrary()
	if err != nil {
		return err
	}
	if err := inference.InitRuntime(lib); err != nil {
		return err
	}
	dialer, transport, err := security.Kafka(c.Kafka, log)
	if err != nil {
		return err
	}
	rdb, err := security.NewRedis(c.Redis, log)
	if err != nil {
		return err
	}
	defer rdb.Close()
	events, err := producers.NewWriter(producers.WriterConfig{Brokers: c.Kafka.Brokers, Transport: transport}, nil)
	if err != nil {
		return err
	}
	defer events.Close()
	client := schemas.NewClient(c.Registry.URL, nil)
	models := registry.New(rdb, c.Models, registry.WithLogger(log), registry.WithEmitter(server.NewModelEvents(client, events)))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if *httpAddr != "" {
		stop, err := serveMetrics(*httpAddr, reg, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	r, err := retrain.NewRetrainer(cfg, retrain.Deps{
		Brokers: c.Kafka.Brokers, Dialer: dialer, Redis: rdb, Registry: models, Schemas: client,
		Logger: log, Metrics: retrain.NewMetrics(reg),
	})
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// serveMetrics serves reg on addr/metrics; stop shuts the server down.
func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
