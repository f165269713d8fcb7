package registry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
)

// TestWatcherPubSub promotes and rolls back while inference runs: each
// change is served within a second of the promotion, and no inference
// call fails.
func TestWatcherPubSub(t *testing.T) {
	e := newEnv(t, registry.Config{CheckInterval: time.Hour})
	e.register(t, "fraud", 1, 0)
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	w, sw, pr := watch(t, e.reg, nil)
	run(t, w)
	waitServing(t, sw, "1", 5*time.Second)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var failed error
	var once sync.Once
	for g := range 4 {
		wg.Go(func() {
			key := []byte(fmt.Sprint("card-", g))
			row := make([]float32, 26)
			for ctx.Err() == nil {
				m, release := sw.AcquireFor(key)
				_, err := m.Infer(ctx, row, 1, nil)
				release()
				if err != nil && ctx.Err() == nil {
					once.Do(func() { failed = err })
				}
			}
		})
	}
	e.register(t, "fraud", 2, 0)
	e.promote(t, "fraud", "2", registry.StageProduction, 0)
	took := waitServing(t, sw, "2", time.Second)
	t.Logf("promotion served after %s", took)
	if _, err := e.reg.Rollback(t.Context(), "fraud", "test"); err != nil {
		t.Fatal(err)
	}
	took = waitServing(t, sw, "1", time.Second)
	t.Logf("rollback served after %s", took)
	stop()
	wg.Wait()
	if failed != nil {
		t.Fatalf("inference failed during a swap: %v", failed)
	}
	// The metrics follow once the old version has drained.
	for start := time.Now(); metric(t, pr, "sluice_model_swaps_total", map[string]string{"stage": "production"}) != 3; {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("sluice_model_swaps_total = %v, want 3",
				metric(t, pr, "sluice_model_swaps_total", map[string]string{"stage": "production"}))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := metric(t, pr, "sluice_model_version_info", map[string]string{"version": "1", "stage": "production"}); got != 1 {
		t.Fatalf("version_info{1} = %v", got)
	}
	if got := metric(t, pr, "sluice_model_version_info", map[string]string{"version": "2"}); got != -1 {
		t.Fatalf("version_info{2} still exported: %v", got)
	}
}

// TestWatcherFallback changes production without a pub/sub message: the
// periodic check picks it up.
func TestWatcherFallback(t *testing.T) {
	e := newEnv(t, registry.Config{CheckInterval: 200 * time.Millisecond})
	quiet := registry.New(e.rdb, registry.Config{}, registry.WithLogger(quietLog))
	registry.NoPublish(quiet)
	e.register(t, "fraud", 1, 0)
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	w, sw, _ := watch(t, e.reg, nil)
	run(t, w)
	waitServing(t, sw, "1", 5*time.Second)
	if _, err := quiet.Register(t.Context(), "fraud", registry.RegisterRequest{ONNX: demoONNX(t, 2, 0), Signature: sigYAML(t, nil)}); err != nil {
		t.Fatal(err)
	}
	if _, err := quiet.Promote(t.Context(), "fraud", "2", registry.StageProduction, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}
	took := waitServing(t, sw, "2", 2*time.Second)
	t.Logf("unannounced promotion served after %s (check interval 200ms)", took)
}

// TestWatcherRedisOutage kills redis-server under a running Watcher: the
// model keeps serving, the failed checks are counted, and after the
// restart a promotion is picked up again.
func TestWatcherRedisOutage(t *testing.T) {
	e := newEnv(t, registry.Config{CheckInterval: 200 * time.Millisecond})
	e.register(t, "fraud", 1, 0)
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	w, sw, pr := watch(t, e.reg, nil)
	run(t, w)
	waitServing(t, sw, "1", 5*time.Second)
	e.redis.Kill()
	start := time.Now()
	for metric(t, pr, "sluice_model_check_errors_total", nil) < 1 {
		if time.Since(start) > 10*time.Second {
			t.Fatal("no failed check counted during the outage")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("first failed check counted %s into the outage", time.Since(start).Round(time.Millisecond))
	if got := serving(t, sw); got != "1" {
		t.Fatalf("serving %q during the outage", got)
	}
	e.redis.Start() // empty: the test server keeps no data
	e.register(t, "fraud", 1, 0)
	e.register(t, "fraud", 2, 0)
	e.promote(t, "fraud", "2", registry.StageProduction, 0)
	waitServing(t, sw, "2", 3*time.Second)
}

// TestWatcherRefuses promotes versions that fail each check: each is
// refused (metric, event, note in the registry) while version 1 keeps
// serving, and a good version promoted afterwards is served.
func TestWatcherRefuses(t *testing.T) {
	blob := "sluice:models:{fraud}:v:2:onnx"
	meta := "sluice:models:{fraud}:v:2"
	tests := []struct {
		reason   string
		hidden   int // of version 2
		editSig  func(*inference.Signature)
		tamper   func(t *testing.T, e *env)
		wantErr  error
		contains string
	}{
		{reason: "checksum", tamper: func(t *testing.T, e *env) {
			e.rdb.SetRange(t.Context(), blob, 100, "\xff\xfe")
		}},
		{reason: "missing", tamper: func(t *testing.T, e *env) { e.rdb.Del(t.Context(), blob) }},
		{reason: "corrupt", tamper: func(t *testing.T, e *env) {
			garbage := strings.Repeat("not onnx ", 40)
			e.rdb.Set(t.Context(), blob, garbage, 0)
			e.rdb.HSet(t.Context(), meta, "size", len(garbage), "sha256", sha256Hex(garbage))
		}},
		{reason: "signature", tamper: func(t *testing.T, e *env) {
			e.rdb.HSet(t.Context(), meta, "signature", sigYAML(t, func(s *inference.Signature) { s.Input.Tensor = "x" }))
		}},
		{reason: "too_large", hidden: 64},
		{reason: "schema", editSig: func(s *inference.Signature) { s.Input.Columns[0].Field = "device_score" }},
	}
	check, err := registry.SchemaCheck(schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := newEnv(t, registry.Config{})
			// The worker's registry caps models at 4 KiB.
			wreg := registry.New(e.rdb, registry.Config{MaxModelBytes: 4096}, registry.WithEmitter(e.events), registry.WithLogger(quietLog))
			e.register(t, "fraud", 1, 0)
			e.promote(t, "fraud", "1", registry.StageProduction, 0)
			w, sw, pr := watch(t, wreg, check)
			if err := w.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := e.reg.Register(t.Context(), "fraud", registry.RegisterRequest{
				ONNX: demoONNX(t, 2, tt.hidden), Signature: sigYAML(t, tt.editSig),
			}); err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(t, e)
			}
			e.promote(t, "fraud", "2", registry.StageProduction, 0)
			for range 2 { // refused once, not again at the next check
				if err := w.Sync(t.Context()); err != nil {
					t.Fatalf("Sync: %v", err)
				}
				if got := serving(t, sw); got != "1" {
					t.Fatalf("serving %q after a bad promotion", got)
				}
			}
			if got := metric(t, pr, "sluice_model_refused_total", map[string]string{"reason": tt.reason}); got != 1 {
				t.Fatalf("sluice_model_refused_total{reason=%s} = %v", tt.reason, got)
			}
			var refused []registry.Event
			for _, ev := range e.events.All() {
				if ev.Type == registry.EventRefused {
					refused = append(refused, ev)
				}
			}
			if len(refused) != 1 || refused[0].Version != "2" || refused[0].Worker != "worker-a" ||
				refused[0].Previous != "1" || !strings.HasPrefix(refused[0].Reason, tt.reason+": ") {
				t.Fatalf("refused events: %+v", refused)
			}
			t.Logf("refused: %s", refused[0].Reason)
			v, err := e.reg.Version(t.Context(), "fraud", "2")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(v.Refused, "worker-a") {
				t.Fatalf("refusal not noted on the version: %q", v.Refused)
			}
			e.register(t, "fraud", 3, 0)
			e.promote(t, "fraud", "3", registry.StageProduction, 0)
			if err := w.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := serving(t, sw); got != "3" {
				t.Fatalf("serving %q after promoting a good version 3", got)
			}
		})
	}
}

// TestWatcherCanaryShadow follows canary and shadow assignments.
func TestWatcherCanaryShadow(t *testing.T) {
	e := newEnv(t, registry.Config{})
	for i := range 3 {
		e.register(t, "fraud", uint64(i+1), 0)
	}
	e.promote(t, "fraud", "1", registry.StageProduction, 0)
	e.promote(t, "fraud", "2", registry.StageCanary, 20)
	e.promote(t, "fraud", "3", registry.StageShadow, 10)
	w, sw, pr := watch(t, e.reg, nil)
	sync := func() {
		t.Helper()
		if err := w.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	canary, pct := sw.Canary()
	if canary == nil || canary.Version() != "2" || pct != 20 {
		t.Fatalf("canary = %v at %v%%", canary, pct)
	}
	if sh, frac := sw.Shadow(); sh == nil || sh.Version() != "3" || math.Abs(frac-0.1) > 1e-9 {
		t.Fatalf("shadow = %v at %v", sh, frac)
	}
	byKey := map[string]string{}
	n := 0
	for i := range 10000 {
		key := []byte(fmt.Sprintf("card-%06d", i))
		m, release := sw.AcquireFor(key)
		release()
		byKey[string(key)] = m.Version()
		if m.Version() == "2" {
			n++
		}
	}
	if share := float64(n) / 10000; math.Abs(share-0.2) > 0.03 {
		t.Fatalf("canary share %.3f, want 0.20 ± 0.03", share)
	}

	e.promote(t, "fraud", "2", registry.StageCanary, 40)
	sync()
	if c, pct := sw.Canary(); c != canary || pct != 40 {
		t.Fatalf("after growing the canary: %v at %v%% (want the same model at 40%%)", c, pct)
	}
	for key, v := range byKey {
		m, release := sw.AcquireFor([]byte(key))
		release()
		if v == "2" && m.Version() != "2" {
			t.Fatalf("key %s left the canary when it grew", key)
		}
	}

	e.promote(t, "fraud", "2", registry.StageProduction, 0)
	sync()
	if c, _ := sw.Canary(); c != nil || serving(t, sw) != "2" {
		t.Fatalf("after promoting the canary: canary %v, production %s", c, serving(t, sw))
	}
	if _, err := canary.Infer(t.Context(), make([]float32, 26), 1, nil); !errors.Is(err, inference.ErrClosed) {
		t.Fatalf("the retired canary model is not closed: %v", err)
	}
	if got := metric(t, pr, "sluice_model_version_info", map[string]string{"stage": "canary"}); got != -1 {
		t.Fatalf("canary version_info still exported: %v", got)
	}
	if got := metric(t, pr, "sluice_model_swaps_total", map[string]string{"stage": "canary"}); got != 1 {
		t.Fatalf("canary swaps = %v", got)
	}
}
