package devstack_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/devstack"
	"github.com/sluice-ml/sluice/loadgen"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
)

// loopConfig is the dev stack tuned for the loop tests on two cores: drift
// windows of 1,000 events flushed every 50ms, quality windows of 500
// labelled events, min_rows 2,000 and waits of seconds, not minutes. The
// drift tests' family-wise significance is 0.001, not 0.01: the shifts
// tested are found at p-values far below either, and the assertions that
// a version's next windows are stationary should not fail one run in
// twenty by chance.
func loopConfig(dir string) devstack.Config {
	w := config.Default()
	w.Drift.WindowEvents, w.Drift.MinWindowEvents, w.Drift.FlushEvents, w.Drift.PValue = 1000, 200, 100, 0.001
	w.Drift.FlushInterval, w.Drift.WindowDuration, w.Drift.MaxRate = 50*time.Millisecond, 10*time.Second, -1
	return devstack.Config{
		DataDir: dir, KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Worker: w,
		Retrain: retrain.Config{Policy: retrain.PolicyAuto, MinRows: 2000, BufferSize: 20000, MaxLabelWait: 20 * time.Second,
			Quality: quality.Config{WindowEvents: 500, MinWindowEvents: 100, Margin: 0.1}},
	}
}

var (
	demoOnce  sync.Once
	demoFiles map[string][]byte // the trained demo model's files, by name
	demoErr   error
)

// placeDemoModel writes the demo model into the stack's data directory,
// trained once per test binary (training it takes seconds under -race).
func placeDemoModel(t *testing.T, dataDir string) {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-loop-model-")
		if err != nil {
			demoErr = err
			return
		}
		defer os.RemoveAll(dir)
		if demoErr = devstack.EnsureDemoModel(dir, slog.New(slog.DiscardHandler)); demoErr != nil {
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			demoErr = err
			return
		}
		demoFiles = map[string][]byte{}
		for _, e := range entries {
			if demoFiles[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
				demoErr = err
				return
			}
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	dir := filepath.Join(dataDir, "models", "fraud", "1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range demoFiles {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startStack runs the dev stack with cfg until the test ends and returns
// its addresses once the worker is ready. The stack's log goes to the test
// log at warn level.
func startStack(t *testing.T, cfg devstack.Config) devstack.Addrs {
	t.Helper()
	placeDemoModel(t, cfg.DataDir)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan devstack.Addrs, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { done <- devstack.Run(ctx, cfg, log, func(a devstack.Addrs) { ready <- a }) }()
	var a devstack.Addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatalf("dev stack exited at start: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("dev stack not ready in 90s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dev stack stopped with %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("dev stack did not stop in 60s")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(a.AdminURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 30s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watched collects the decoded records of a topic as they arrive.
type watched struct {
	topic string
	mu    sync.Mutex
	recs  []map[string]any
}

// watch reads topic from its start until the test ends.
func watch(t *testing.T, a devstack.Addrs, topic string) *watched {
	t.Helper()
	w := &watched{topic: topic}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{a.Kafka}, Topic: topic,
		GroupID: fmt.Sprintf("watch-%s-%d", topic, time.Now().UnixNano()), StartOffset: kafka.FirstOffset,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 20 * time.Millisecond})
	dec := schemas.NewDecoder(schemas.NewClient(a.RegistryURL, nil), 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return
			}
			if rec, _, err := dec.Decode(ctx, m.Value); err == nil {
				w.mu.Lock()
				w.recs = append(w.recs, rec)
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; _ = r.Close() })
	return w
}

// all returns the records so far.
func (w *watched) all() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.recs...)
}

// where returns the records so far for which keep holds.
func (w *watched) where(keep func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, r := range w.all() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits up to d for at least n records for which keep holds, and
// returns them.
func (w *watched) waitFor(t *testing.T, d time.Duration, n int, what string, keep func(map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if got := w.where(keep); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s on %s (%d records so far)", d, what, w.topic, len(w.all()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// produceLabelled publishes labelled demo events with cfg until stop is called
// (or cfg.Count is reached).
func produceLabelled(t *testing.T, a devstack.Addrs, cfg loadgen.Config) (stop func()) {
	t.Helper()
	cfg.Brokers, cfg.RegistryURL, cfg.Topic, cfg.Labels = []string{a.Kafka}, a.RegistryURL, "features", true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := loadgen.Run(ctx, cfg)
		done <- err
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && ctx.Err() == nil {
				t.Errorf("producing: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func isVersion(v string) func(map[string]any) bool {
	return func(r map[string]any) bool { return r["model_version"] == v }
}

func promotedTo(v string) func(map[string]any) bool {
	return func(r map[string]any) bool {
		return r["type"] == "promoted" && r["stage"] == "production" && r["model_version"] == v
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

var _ io.Writer = testLog{}
