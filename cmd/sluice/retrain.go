package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/featurelog"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/security"
	"github.com/sluice-ml/sluice/server"
)

// retrainConnFlags declares the connection flags of the retrain commands,
// named after their keys; set returns the ones given.
func retrainConnFlags(fs *flag.FlagSet) (path *string, set func() map[string]string) {
	path = fs.String("config", "", "path to sluice.yaml (kafka, redis, registry, models and drift sections)")
	keys := map[string]string{"brokers": "kafka.brokers", "registry-url": "registry.url", "redis-url": "redis.url"}
	vals := map[string]*string{}
	for name, key := range keys {
		vals[name] = fs.String(name, "", "overrides "+key+" (env "+config.EnvName(key)+")")
	}
	return path, func() map[string]string {
		out := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if key, ok := keys[f.Name]; ok {
				out[key] = strings.TrimSpace(*vals[f.Name])
			}
		})
		return out
	}
}

// cmdRetrain is `sluice retrain`: the built-in retrainer and the live
// quality service, until SIGTERM; `sluice retrain export` writes a
// request's labelled rows for an external trainer.
func cmdRetrain(ctx context.Context, args []string, log *slog.Logger) error {
	if len(args) > 0 && args[0] == "export" {
		return cmdRetrainExport(ctx, args[1:], log)
	}
	fs := flag.NewFlagSet("retrain", flag.ContinueOnError)
	path, set := retrainConnFlags(fs)
	def := retrain.Config{}.WithDefaults()
	policy := fs.String("policy", string(def.Policy), "promotion policy: manual (leave a candidate), auto (promote the new version; its weights are the better of retrained and production on the post-onset holdout) or live (make it a shadow or canary and promote on live labels)")
	minRows := fs.Int("min-rows", def.MinRows, "fewest labelled events since a request's onset to train on")
	maxLabelWait := fs.Duration("max-label-wait", def.MaxLabelWait, "how long a request waits for min-rows labelled events since its onset before it is skipped")
	bufferSize := fs.Int("buffer-size", def.BufferSize, "most recent labelled records kept for training")
	featureTTL := fs.Duration("feature-ttl", def.FeatureTTL, "how long workers keep scored events (labels older than this are not joined)")
	labelWait := fs.Duration("label-wait", def.LabelWait, "how long a label waits for its event's features to be kept")
	liveStage := fs.String("live-stage", string(def.LiveStage), "policy live: where a new version goes, shadow or canary")
	livePercent := fs.Float64("live-percent", def.LivePercent, "policy live: the shadow's share of events or the canary's share of keys, in percent")
	qWindow := fs.Int("quality-window", def.Quality.WindowEvents, "labelled events per live quality window")
	qMargin := fs.Float64("quality-margin", def.Quality.Margin, "how far a production window's live AUC may fall below the version's holdout AUC before it counts as degraded (-1: no quality retrain requests)")
	liveMin := fs.Int("live-min-events", def.Quality.Live.MinEvents, "policy live: fewest labelled events a comparison with production runs on")
	liveConf := fs.Float64("live-confidence", def.Quality.Live.Confidence, "policy live: one-sided confidence of the bootstrap bounds a promotion needs")
	httpAddr := fs.String("http-addr", "", "serve /metrics on this address (empty: off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := loadConfig(*path, set())
	if err != nil {
		return security.RedactorFor(c).Error(err)
	}
	log = security.RedactorFor(c).Logger(log)
	p, err := retrain.ParsePolicy(*policy)
	if err != nil {
		return err
	}
	cfg := retrain.Config{Policy: p, MinRows: *minRows, MaxLabelWait: *maxLabelWait, BufferSize: *bufferSize,
		FeatureTTL: *featureTTL, LabelWait: *labelWait, LiveStage: registry.Stage(*liveStage), LivePercent: *livePercent,
		Quality: quality.Config{WindowEvents: *qWindow, Margin: *qMargin, Decision: c.Drift.Config,
			Live: quality.LiveConfig{MinEvents: *liveMin, Confidence: *liveConf}}}
	if err := cfg.Validate(); err != nil {
		return err
	}

	if err := inference.Load(); err != nil {
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
		Logger: log, Metrics: retrain.NewMetrics(reg), Sink: producers.NewEventSink(client, events), Quality: quality.NewMetrics(reg),
	})
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// cmdRetrainExport is `sluice retrain export --request ID --out FILE`.
func cmdRetrainExport(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("retrain export", flag.ContinueOnError)
	path, set := retrainConnFlags(fs)
	request := fs.String("request", "", "event_id of the RetrainRequested to export the labelled rows of (required)")
	out := fs.String("out", "", "the Avro object container file to write (required; - is stdout)")
	requests := fs.String("requests-topic", retrain.DefaultRequestsTopic, "where the request is")
	labels := fs.String("labels-topic", retrain.DefaultLabelsTopic, "where the labels are")
	featureTTL := fs.Duration("feature-ttl", featurelog.DefaultTTL, "how long workers keep scored events (retrain.feature_ttl)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *request == "" || *out == "" {
		return errors.New("retrain export: --request and --out are required")
	}
	c, err := loadConfig(*path, set())
	red := security.RedactorFor(c)
	if err != nil {
		return red.Error(err)
	}
	log = red.Logger(log)
	if err := exportRequest(ctx, c, *request, *out, *requests, *labels, *featureTTL, log); err != nil {
		return red.Error(err)
	}
	return nil
}

// exportRequest is the body of cmdRetrainExport once the config is loaded.
func exportRequest(ctx context.Context, c config.Config, request, out, requests, labels string, featureTTL time.Duration, log *slog.Logger) error {
	dialer, _, err := security.Kafka(c.Kafka, log)
	if err != nil {
		return err
	}
	rdb, err := security.NewRedis(c.Redis, log)
	if err != nil {
		return err
	}
	defer rdb.Close()
	w := io.Writer(os.Stdout)
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		w = f
	}
	res, err := retrain.Export(ctx, retrain.ExportConfig{Brokers: c.Kafka.Brokers, Dialer: dialer, Request: request,
		RequestsTopic: requests, LabelsTopic: labels},
		retrain.ExportDeps{Schemas: schemas.NewClient(c.Registry.URL, nil), Features: featurelog.New(rdb, featureTTL)}, w)
	if err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	from := "every labelled event (the request has no onset)"
	if !res.From.IsZero() {
		from = "events since " + res.From.Format(time.RFC3339Nano)
	}
	fmt.Fprintf(os.Stderr, "request %s (%s/%s, %s): %d labelled rows of %s written to %s; of %d labels, %d before that, %d without kept features, %d unreadable, %d with another schema\n",
		request, res.Request.Model, res.Request.Version, res.Request.Kind, res.Rows, from, out, res.Labels, res.Before, res.Unkept, res.Invalid, res.OtherSchema)
	return nil
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
