package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// States of a Held version.
const (
	// HeldRefused: a check failed; the version is not tried again until
	// the registry assigns the stage another version.
	HeldRefused = "refused"
	// HeldWaiting: the version waits for the input schema to be checked
	// against.
	HeldWaiting = "waiting"
)

// Held is a version the registry assigns to a stage that a worker does not
// serve, and why. It is plain data.
type Held struct {
	Stage   Stage  `json:"stage"`
	Version string `json:"version"`
	// State is HeldRefused or HeldWaiting.
	State string `json:"state"`
	// Reason is the refusal's reason and error, or what the version waits
	// for.
	Reason string `json:"reason"`
}

// WorkerState is what one worker serves of a model, as its Watcher last
// wrote it to Redis. It is plain data.
type WorkerState struct {
	Worker string `json:"worker"`
	// Production, Canary and Shadow are the versions it serves ("" none;
	// Production may be a model.dir model's configured version).
	Production string `json:"production,omitempty"`
	Canary     string `json:"canary,omitempty"`
	Shadow     string `json:"shadow,omitempty"`
	// Held lists what the registry assigns that it does not serve.
	Held    []Held    `json:"held,omitempty"`
	Updated time.Time `json:"updated"`
	// Every is how often it writes its state; a state not written for
	// three of these is a worker gone, and Workers leaves it out.
	Every time.Duration `json:"every"`
}

// workersKey is the hash of each worker's WorkerState, as JSON by worker.
func workersKey(name string) string { return modelKey(name, "workers") }

// report writes what the worker serves to Redis and the held versions to
// sluice_model_held_info. w.mu is held; a failure to write is logged once.
func (w *Watcher) report(ctx context.Context) {
	st := WorkerState{
		Worker: w.cfg.Worker, Production: w.shown[StageProduction], Canary: w.shown[StageCanary],
		Shadow: w.shown[StageShadow], Updated: time.Now().UTC(), Every: w.reg.cfg.CheckInterval,
	}
	for _, stage := range watchedStages {
		if h, ok := w.held[stage]; ok {
			st.Held = append(st.Held, h)
		}
	}
	w.m.held(w.cfg.Model, st.Held)
	b, _ := json.Marshal(st)
	key := workersKey(w.cfg.Model)
	_, err := w.reg.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, w.cfg.Worker, b)
		p.PExpire(ctx, key, 3*st.Every) // gone with the last worker
		return nil
	})
	if err != nil && !w.wrote && ctx.Err() == nil {
		w.log.Warn("writing what this worker serves to the registry", "err", err)
	}
	w.wrote = err == nil
}

// forget removes the worker's state from Redis: it serves the model no
// more.
func (w *Watcher) forget() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = w.reg.rdb.HDel(ctx, workersKey(w.cfg.Model), w.cfg.Worker).Err()
	w.m.held(w.cfg.Model, nil)
}

// waiting reports whether a version waits for the input schema.
func (w *Watcher) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.held {
		if h.State == HeldWaiting {
			return true
		}
	}
	return false
}

// Held returns what the registry assigns to stage that this worker does
// not serve, and why; ok is false when it serves what is assigned. It is
// safe for concurrent use.
func (w *Watcher) Held(stage Stage) (h Held, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, ok = w.held[stage]
	return h, ok
}

// Workers returns the state of each worker serving the model, sorted by
// worker, as their Watchers last wrote it; states not written for three
// check intervals (workers gone) are left out, and removed.
func (r *Registry) Workers(ctx context.Context, name string) ([]WorkerState, error) {
	h, err := r.rdb.HGetAll(ctx, workersKey(name)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the workers of model %s: %w", name, err)
	}
	now := time.Now()
	var out []WorkerState
	for worker, raw := range h {
		var st WorkerState
		if err := json.Unmarshal([]byte(raw), &st); err != nil || now.Sub(st.Updated) > 3*max(st.Every, time.Second) {
			_ = r.rdb.HDel(ctx, workersKey(name), worker).Err()
			continue
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b WorkerState) int { return strings.Compare(a.Worker, b.Worker) })
	return out, nil
}
