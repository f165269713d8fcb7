package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// modelEvents publishes registry changes and refusals as ModelEvents on
// the model-events topic. It implements registry.Emitter.
type modelEvents struct {
	sink *eventSink
}

// NewModelEvents returns the registry.Emitter that publishes ModelEvents
// on the model-events topic through w (which must have no fixed topic),
// registering the schema with client on first use. Safe for concurrent use.
func NewModelEvents(client *schemas.Client, w *producers.Writer) registry.Emitter {
	return modelEvents{newEventSink(client, w)}
}

func (m modelEvents) Emit(ctx context.Context, ev registry.Event) error {
	return m.sink.Emit(ctx, registry.ModelEventsTopic, ev.Model, ev.Native(), registry.ModelEventSchema)
}

// newWatcher builds the registry watcher that keeps sw serving the model's
// production (and canary, shadow) versions, and syncs it once.
func newWatcher(ctx context.Context, cfg config.Config, rdb *redis.Client, client *schemas.Client, w *producers.Writer,
	sw *inference.Swapper, im *inference.Metrics, reg prometheus.Registerer, log *slog.Logger) (*registry.Watcher, error) {
	models := registry.New(rdb, cfg.Models, registry.WithEmitter(NewModelEvents(client, w)), registry.WithLogger(log))
	input := schemas.TransactionSchema()
	if v, err := client.Version(ctx, schemas.Subject(cfg.Pipeline.WithDefaults().InputTopic), "latest"); err == nil {
		input = v.Schema
	}
	check, err := registry.SchemaCheck(input)
	if err != nil {
		log.Warn("input schema is not a record; model versions are not checked against it", "err", err)
		check = nil
	}
	host, _ := os.Hostname()
	watcher, err := registry.NewWatcher(models, sw, registry.WatcherConfig{
		Model: cfg.Model.Name, Worker: host, Session: cfg.Inference.SessionConfig(),
		InferenceMetrics: im, CheckSignature: check, Logger: log,
	}, registry.NewMetrics(reg))
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	if err := watcher.Sync(ctx); err != nil {
		log.Warn("model registry not usable at start; serving model.dir until it is", "err", err)
	}
	return watcher, nil
}
