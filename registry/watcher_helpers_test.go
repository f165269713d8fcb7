package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
)

// watch builds a Watcher of model fraud over reg into a new Swapper and
// returns both with the Prometheus registry its metrics are on.
func watch(t *testing.T, reg *registry.Registry, check func(*inference.Signature) error) (*registry.Watcher, *inference.Swapper, *prometheus.Registry) {
	t.Helper()
	sw := inference.NewSwapper(nil)
	t.Cleanup(func() {
		if err := sw.Close(); err != nil {
			t.Error(err)
		}
	})
	pr := prometheus.NewRegistry()
	w, err := registry.NewWatcher(reg, sw, registry.WatcherConfig{
		Model: "fraud", Worker: "worker-a", CheckSignature: check, Logger: quietLog,
		Session: inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1},
	}, registry.NewMetrics(pr))
	if err != nil {
		t.Fatal(err)
	}
	return w, sw, pr
}

// run runs w until the test ends.
func run(t *testing.T, w *registry.Watcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// serving returns the version sw serves, after running it on one row.
func serving(t *testing.T, sw *inference.Swapper) string {
	t.Helper()
	m, release := sw.Acquire()
	defer release()
	if m == nil {
		return ""
	}
	if _, err := m.Infer(context.Background(), make([]float32, m.Width()), 1, nil); err != nil {
		t.Fatalf("version %s: %v", m.Version(), err)
	}
	return m.Version()
}

// waitServing waits up to d for sw to serve version and returns how long
// it took.
func waitServing(t *testing.T, sw *inference.Swapper, version string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if m := sw.Current(); m != nil && m.Version() == version {
			return time.Since(start)
		}
		if time.Since(start) > d {
			got := "none"
			if m := sw.Current(); m != nil {
				got = m.Version()
			}
			t.Fatalf("version %s not served within %s (serving %s)", version, d, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// metric is the value of the series name{labels}, or -1 if absent.
func metric(t *testing.T, pr *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := pr.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
