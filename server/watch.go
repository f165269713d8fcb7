package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// modelEvents publishes registry changes and refusals as ModelEvents on
// the model-events topic. It implements registry.Emitter.
type modelEvents struct {
	sink *producers.EventSink
}

// NewModelEvents returns the registry.Emitter that publishes ModelEvents
// on the model-events topic through w (which must have no fixed topic),
// registering the schema with client on first use. Safe for concurrent use.
func NewModelEvents(client *schemas.Client, w *producers.Writer) registry.Emitter {
	return modelEvents{producers.NewEventSink(client, w)}
}

func (m modelEvents) Emit(ctx context.Context, ev registry.Event) error {
	return m.sink.Emit(ctx, registry.ModelEventsTopic, ev.Model, ev.Native(), registry.ModelEventSchema)
}

// newWatcher builds the registry watcher that keeps sw serving model
// name's production (and canary, shadow) versions. Each version is checked
// against the input topic's schema as the schema registry has it when the
// version is loaded.
func newWatcher(mc registry.Config, name, input string, session inference.SessionConfig, rdb *redis.Client, client *schemas.Client,
	w *producers.Writer, sw *inference.Swapper, im *inference.Metrics, rm *registry.Metrics, log *slog.Logger) (*registry.Watcher, error) {
	models := registry.New(rdb, mc, registry.WithEmitter(NewModelEvents(client, w)), registry.WithLogger(log))
	host, _ := os.Hostname()
	watcher, err := registry.NewWatcher(models, sw, registry.WatcherConfig{
		Model: name, Worker: fmt.Sprintf("%s/%d", host, os.Getpid()), Session: session,
		InferenceMetrics: im, InputSchema: latestSchema(client, schemas.Subject(input)), Logger: log,
	}, rm)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	return watcher, nil
}

// latestSchema reads the latest schema of subject, or says there is none
// yet (registry.ErrNoInputSchema).
func latestSchema(client *schemas.Client, subject string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		v, err := client.Version(ctx, subject, "latest")
		if errors.Is(err, schemas.ErrUnknownSchema) {
			return "", fmt.Errorf("%w: subject %s is not registered", registry.ErrNoInputSchema, subject)
		}
		if err != nil {
			return "", err
		}
		return v.Schema, nil
	}
}

// firstSync brings sw to the registry's versions before the worker starts.
// Without a model.dir model, it must leave sw serving production, or it
// says why not and how to give the worker a model.
func firstSync(ctx context.Context, mc registry.Config, name string, w *registry.Watcher, sw *inference.Swapper, rdb *redis.Client, log *slog.Logger) error {
	err := w.Sync(ctx)
	if sw.Current() != nil {
		if err != nil {
			log.Warn("model registry not usable at start; serving model.dir until it is", "err", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("model.dir is empty, and the model registry could not be read: %w", err)
	}
	if h, ok := w.Held(registry.StageProduction); ok {
		return fmt.Errorf("model %s version %s is production in the model registry, but this worker %s it: %s; promote another version (sluice models promote %s VERSION) or set model.dir",
			name, h.Version, h.State, h.Reason, name)
	}
	st, err := registry.New(rdb, mc).State(ctx, name)
	switch {
	case errors.Is(err, registry.ErrUnknownModel):
		return noModelError(name, "the model registry has no model "+name)
	case err != nil:
		return fmt.Errorf("model.dir is empty, and the model registry could not be read: %w", err)
	case st.Production == "":
		return noModelError(name, fmt.Sprintf("model %s has no production version in the model registry (latest: version %s; sluice models promote %s %s)", name, st.Latest, name, st.Latest))
	}
	return fmt.Errorf("model.dir is empty, and model %s version %s (production) did not load", name, st.Production)
}

// noModelError says that a worker has no model to serve, why, and both
// ways to give it one.
func noModelError(name, why string) error {
	return fmt.Errorf("no model to serve: model.dir is empty and %s. Either register one as production "+
		"(sluice models register %s --onnx model.onnx --signature signature.yaml --stage production) "+
		"or set model.dir (--model-dir, SLUICE_MODEL_DIR) to a directory holding model.onnx and signature.yaml", why, name)
}
