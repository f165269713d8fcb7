package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// WatcherConfig is what a Watcher needs besides the registry and the
// Swapper.
type WatcherConfig struct {
	// Model is the name of the model the worker serves (required).
	Model string
	// Worker names this worker in refused events; default the host name.
	Worker string
	// Session is how versions are loaded (provider, sessions, threads).
	Session inference.SessionConfig
	// InferenceMetrics are handed to every loaded model (may be nil).
	InferenceMetrics *inference.Metrics
	// CheckSignature, when set, is run on every version's signature before
	// it is loaded; an error refuses the version as "schema". SchemaCheck
	// builds one from an Avro schema.
	CheckSignature func(*inference.Signature) error
	// InputSchema, when set, returns the input topic's Avro record schema
	// (its JSON text) as it is now. It is asked each time a version is
	// loaded, and the version's signature is checked against it
	// (SchemaCheck; a mismatch refuses the version as "schema"). An error
	// wrapping ErrNoInputSchema (none registered yet) makes the version
	// wait, and be tried again every second or so, while the current one
	// keeps serving; with nothing serving production yet, the production
	// version is loaded without the check (a record lacking a field it
	// reads is dead-lettered). Other errors are retried at the next check.
	InputSchema func(ctx context.Context) (string, error)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Watcher keeps a Swapper serving the model's production, canary and
// shadow versions as the registry assigns them. Create it with NewWatcher
// and run it with Run; Sync does one check. Its methods are safe for
// concurrent use.
type Watcher struct {
	reg *Registry
	sw  *inference.Swapper
	cfg WatcherConfig
	m   *Metrics
	log *slog.Logger

	mu      sync.Mutex       // one check at a time
	serving map[Stage]string // registry version each role serves ("" none)
	refused map[Stage]string // the last version refused for each role
	shown   map[Stage]string // version in sluice_model_version_info per role
	held    map[Stage]Held   // the version assigned to a role that it does not serve, and why
	wrote   bool             // the worker's state was written to Redis once
}

// watchedStages are the roles a Watcher fills, in the order it fills them.
var watchedStages = []Stage{StageProduction, StageCanary, StageShadow}

// NewWatcher returns a Watcher that loads the versions of cfg.Model that
// reg assigns and swaps them into sw. A model sw already serves (loaded
// from a directory, say) is replaced by the registry's production version
// on the first check, even if their version strings are equal; until then,
// and while the registry has no production version, it keeps serving.
func NewWatcher(reg *Registry, sw *inference.Swapper, cfg WatcherConfig, m *Metrics) (*Watcher, error) {
	if err := CheckName(cfg.Model); err != nil {
		return nil, err
	}
	if reg == nil || sw == nil {
		return nil, errors.New("registry: a Watcher needs a Registry and a Swapper")
	}
	if err := cfg.Session.Validate(); err != nil {
		return nil, err
	}
	if cfg.Worker == "" {
		cfg.Worker, _ = os.Hostname()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Watcher{
		reg: reg, sw: sw, cfg: cfg, m: m, log: cfg.Logger.With("model", cfg.Model),
		serving: map[Stage]string{}, refused: map[Stage]string{}, shown: map[Stage]string{},
		held: map[Stage]Held{},
	}
	m.init(cfg.Model)
	if cur := sw.Current(); cur != nil {
		w.shown[StageProduction] = cur.Version()
		m.served(cfg.Model, StageProduction, "", cur.Version())
	}
	return w, nil
}

// Run follows the registry until ctx ends, then returns nil. It subscribes
// to Channel(model) and checks on every message, at start and every
// CheckInterval (so a missed message or a Redis outage delays a swap by at
// most one interval), and every WaitRetry while a version waits for the
// input schema. A failed check is logged and retried at the next one.
// Each check writes what the worker serves to Redis (Registry.Workers);
// Run removes it when it returns.
func (w *Watcher) Run(ctx context.Context) error {
	sub := w.reg.rdb.Subscribe(ctx, Channel(w.cfg.Model))
	defer sub.Close()
	defer w.forget()
	// Wait for the subscription before the first check, so that no change
	// falls between the two.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := sub.Receive(rctx); err != nil && ctx.Err() == nil {
		w.log.Warn("subscribing to model events; relying on the periodic check until Redis answers",
			"channel", Channel(w.cfg.Model), "err", err)
	}
	cancel()
	msgs := sub.Channel()
	tick := time.NewTicker(w.reg.cfg.CheckInterval)
	defer tick.Stop()
	for {
		w.check(ctx)
		var retry <-chan time.Time
		if w.waiting() {
			retry = time.After(min(WaitRetry, w.reg.cfg.CheckInterval))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-msgs:
			drain(msgs) // one check answers every message queued so far
		case <-tick.C:
		case <-retry:
		}
	}
}

// WaitRetry is how often a Watcher checks again while a version waits for
// the input schema.
const WaitRetry = time.Second

func drain[T any](c <-chan T) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// check runs Sync and logs its error.
func (w *Watcher) check(ctx context.Context) {
	if err := w.Sync(ctx); err != nil && ctx.Err() == nil {
		w.m.checkFailed(w.cfg.Model)
		w.log.Warn("checking the model registry; the current versions keep serving", "err", err)
	}
}

// Sync checks the registry once and brings the Swapper to its production,
// canary and shadow versions. A version that fails a check is refused
// (logged, counted, emitted) and is not an error; Sync returns an error
// only when the registry could not be read or a swap did not finish, and
// the next Sync tries again. A model that is not registered yet leaves the
// Swapper as it is.
func (w *Watcher) Sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := w.reg.State(ctx, w.cfg.Model)
	if errors.Is(err, ErrUnknownModel) {
		w.report(ctx)
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, stage := range watchedStages {
		if err := w.syncStage(ctx, st, stage); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", stage, err))
		}
	}
	w.report(ctx)
	return errors.Join(errs...)
}
