package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// A worker that starts before its input topic has a schema serves the
// production version unchecked (there is nothing else to serve); a
// version promoted while there is still none waits, the old one serving,
// and swaps in within a second or so of the schema's registration; one
// that does not fit the schema is refused. What the worker serves and
// holds back is in Redis (Registry.Workers) and in sluice_model_held_info.
func TestWatcherWaitsForTheInputSchema(t *testing.T) {
	e := newEnv(t, registry.Config{CheckInterval: time.Hour}) // only the wait's retry re-checks
	var schema atomic.Pointer[string]
	sw := inference.NewSwapper(nil)
	t.Cleanup(func() { _ = sw.Close() })
	pr := prometheus.NewRegistry()
	w, err := registry.NewWatcher(e.reg, sw, registry.WatcherConfig{
		Model: "fraud", Worker: "worker-a", Logger: quietLog,
		Session: inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1},
		InputSchema: func(context.Context) (string, error) {
			if s := schema.Load(); s != nil {
				return *s, nil
			}
			return "", fmt.Errorf("%w: subject features-value", registry.ErrNoInputSchema)
		},
	}, registry.NewMetrics(pr))
	if err != nil {
		t.Fatal(err)
	}
	e.register(t, "fraud", 1, 0)
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stopWatcher := func() { once.Do(func() { stop(); <-done }) }
	defer stopWatcher()
	waitServing(t, sw, "1", 5*time.Second)

	e.register(t, "fraud", 2, 0)
	e.promote(t, "fraud", "2", registry.StageProduction, 0)
	held := waitHeld(t, w, "2", registry.HeldWaiting)
	if !strings.Contains(held.Reason, "features-value") || serving(t, sw) != "1" {
		t.Fatalf("held %+v, serving %s", held, serving(t, sw))
	}
	if got := metric(t, pr, "sluice_model_held_info", map[string]string{"version": "2", "state": "waiting", "reason": "input_schema"}); got != 1 {
		t.Fatalf("sluice_model_held_info{waiting} = %v", got)
	}
	ws := workers(t, e.reg)
	if len(ws) != 1 || ws[0].Worker != "worker-a" || ws[0].Production != "1" || len(ws[0].Held) != 1 || ws[0].Held[0].State != registry.HeldWaiting {
		t.Fatalf("workers: %+v", ws)
	}

	text := schemas.TransactionSchema()
	schema.Store(&text)
	took := waitServing(t, sw, "2", 5*time.Second)
	t.Logf("version 2 served %s after the schema was registered", took)
	if _, ok := w.Held(registry.StageProduction); ok {
		t.Fatal("still held after the swap")
	}

	if _, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{
		ONNX: demoONNX(t, 3, 0), Signature: sigYAML(t, func(s *inference.Signature) { s.Input.Columns[0].Field = "device_score" }),
	}); err != nil {
		t.Fatal(err)
	}
	e.promote(t, "fraud", "3", registry.StageProduction, 0)
	held = waitHeld(t, w, "3", registry.HeldRefused)
	if !strings.HasPrefix(held.Reason, `schema: `) || !strings.Contains(held.Reason, `column "device_score" reads a field record CardTransaction does not have`) {
		t.Fatalf("refusal reason %q", held.Reason)
	}
	if got := metric(t, pr, "sluice_model_held_info", map[string]string{"version": "3", "state": "refused", "reason": "schema"}); got != 1 {
		t.Fatalf("sluice_model_held_info{refused} = %v", got)
	}
	if got := metric(t, pr, "sluice_model_held_info", map[string]string{"version": "2"}); got != -1 {
		t.Fatalf("sluice_model_held_info of version 2 still there: %v", got)
	}
	ws = workers(t, e.reg)
	if len(ws) != 1 || ws[0].Production != "2" || len(ws[0].Held) != 1 || ws[0].Held[0].Version != "3" {
		t.Fatalf("workers: %+v", ws)
	}
	stopWatcher()
	if ws := workers(t, e.reg); len(ws) != 0 {
		t.Fatalf("a stopped worker is still listed: %+v", ws)
	}
}

// waitHeld waits for the watcher to hold version back in state.
func waitHeld(t *testing.T, w *registry.Watcher, version, state string) registry.Held {
	t.Helper()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if h, ok := w.Held(registry.StageProduction); ok && h.Version == version && h.State == state {
			return h
		}
		if time.Since(start) > 5*time.Second {
			h, _ := w.Held(registry.StageProduction)
			t.Fatalf("version %s not %s within 5s (held: %+v)", version, state, h)
		}
	}
}

func workers(t *testing.T, reg *registry.Registry) []registry.WorkerState {
	t.Helper()
	ws, err := reg.Workers(t.Context(), "fraud")
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// A worker whose state was not written for three of its check intervals
// is gone: Workers leaves it out and removes it.
func TestWorkersLeavesOutWorkersGone(t *testing.T) {
	e := newEnv(t, registry.Config{})
	key := "sluice:models:{fraud}:workers"
	for name, age := range map[string]time.Duration{"alive": time.Second, "gone": time.Minute} {
		b, _ := json.Marshal(registry.WorkerState{Worker: name, Production: "1", Updated: time.Now().Add(-age), Every: 10 * time.Second})
		e.rdb.HSet(t.Context(), key, name, b)
	}
	e.rdb.HSet(t.Context(), key, "garbled", "{")
	ws := workers(t, e.reg)
	if len(ws) != 1 || ws[0].Worker != "alive" {
		t.Fatalf("workers: %+v", ws)
	}
	if left := e.rdb.HKeys(t.Context(), key).Val(); len(left) != 1 || left[0] != "alive" {
		t.Fatalf("left in Redis: %v", left)
	}
}
