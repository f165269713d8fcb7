package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/inference"
)

// Registry reads and changes the models in Redis. Create it with New. Its
// methods are safe for concurrent use.
type Registry struct {
	rdb     redis.UniversalClient
	cfg     Config
	emitter Emitter
	log     *slog.Logger
	// publish is false only in tests that simulate a lost pub/sub message.
	publish bool
	// validate checks an ONNX blob against its signature at Register;
	// loadCheck unless a test replaces it.
	validate func(name, version string, onnx []byte, sig *inference.Signature) error
}

// Option changes how New builds a Registry.
type Option func(*Registry)

// WithEmitter sends every change (and every refusal a Watcher makes) to e.
func WithEmitter(e Emitter) Option { return func(r *Registry) { r.emitter = e } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Registry) { r.log = l } }

// New returns a Registry over rdb with cfg (zero fields take defaults; an
// invalid cfg is reported by its Validate, which New does not call). The
// caller keeps ownership of rdb.
func New(rdb redis.UniversalClient, cfg Config, opts ...Option) *Registry {
	r := &Registry{rdb: rdb, cfg: cfg.WithDefaults(), log: slog.Default(), publish: true, validate: loadCheck}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Config returns the configuration in effect, defaults filled in.
func (r *Registry) Config() Config { return r.cfg }

// commit runs change under WATCH of the model's state key and retries it
// when another change got there first. change reads through tx and queues
// its writes with tx.TxPipelined.
func (r *Registry) commit(ctx context.Context, name string, change func(tx *redis.Tx) error) error {
	for range 20 {
		err := r.rdb.Watch(ctx, change, stateKey(name), historyKey(name))
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: model %s", ErrConflict, name)
}

// announce publishes ev inside a MULTI (so it goes out only if the change
// commits).
func (r *Registry) announce(ctx context.Context, p redis.Pipeliner, ev Event) {
	if !r.publish {
		return
	}
	b, _ := json.Marshal(ev)
	p.Publish(ctx, Channel(ev.Model), b)
}

// emit hands a committed event to the emitter; a failure is logged.
func (r *Registry) emit(ctx context.Context, ev Event) {
	if r.emitter == nil {
		return
	}
	if err := r.emitter.Emit(ctx, ev); err != nil {
		r.log.Warn("emitting model event", "model", ev.Model, "version", ev.Version, "type", ev.Type, "err", err)
	}
}

// Notify announces an event that changes nothing in the registry (a
// skipped retrain, a live evaluation that kept the stages as they are) on
// Channel(ev.Model) and to the emitter, filling its id and time. ev.Type
// is EventSkipped or EventEvaluated. It returns the event as sent.
func (r *Registry) Notify(ctx context.Context, ev Event) (Event, error) {
	if ev.Type != EventSkipped && ev.Type != EventEvaluated {
		return Event{}, fmt.Errorf("registry: %s is announced by the change itself", ev.Type)
	}
	n := newEvent(ev.Type, ev.Model, ev.Version, ev.Stage)
	ev.ID, ev.Time = n.ID, n.Time
	if r.publish {
		b, _ := json.Marshal(ev)
		if err := r.rdb.Publish(ctx, Channel(ev.Model), b).Err(); err != nil {
			return ev, fmt.Errorf("announcing %s event of model %s: %w", ev.Type, ev.Model, err)
		}
	}
	r.emit(ctx, ev)
	return ev, nil
}
