package server

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// demoProfile is the reference profile of e's demo model, as profile.json
// holds it.
func demoProfile(t *testing.T, e *testworker.Env) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), ProfileFile)
	if err := e.DemoProfile(t).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return readFile(t, path)
}

// The drift follower runs a monitor for the version being served, with
// that version's profile from the registry, and follows hot swaps: drift
// reports name version 1, then version 2 after the swap, and none come for
// a version without a profile.
func TestDriftFollowerFollowsTheServedVersion(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	profile := demoProfile(t, e)
	models := registry.New(e.Redis, registry.Config{})
	for _, withProfile := range []bool{true, true, false} {
		req := registry.RegisterRequest{ONNX: e.ONNX, Signature: sigYAML(t, e)}
		if withProfile {
			req.Profile = profile
		}
		if _, err := models.Register(ctx, "fraud", req); err != nil {
			t.Fatal(err)
		}
	}
	load := func(version string) *inference.Model {
		m, err := inference.LoadModel("fraud", version, e.ONNX, e.Sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	sw := inference.NewSwapper(load("1"))
	defer sw.Close()

	cfg := config.Default()
	cfg.Model.Dir = t.TempDir() // no profile.json: a version the registry has no profile for is not monitored
	cfg.Drift.WindowEvents, cfg.Drift.MinWindowEvents = 400, 100
	cfg.Drift.FlushInterval, cfg.Drift.MaxRate = 50*time.Millisecond, -1
	w, err := producers.NewWriter(producers.WriterConfig{Brokers: []string{e.Kafka.Addr}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	logs := &logBuffer{}
	f, err := newDriftFollower(cfg, cfg.Effective()[0], sw, e.Redis, producers.NewEventSink(e.Client, w), &drift.Active{}, prometheus.NewRegistry(),
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()

	gen := demo.NewGenerator(5)
	observe := func(n int) {
		t.Helper()
		recs := make([]map[string]any, n)
		for i := range recs {
			recs[i] = gen.Next()
		}
		rows, err := training.Rows(e.Sig, recs)
		if err != nil {
			t.Fatal(err)
		}
		scores := make([]float32, n)
		for i, row := range rows {
			scores[i] = e.Sig.ReadOutput(e.MLP.Forward(row)).Score
		}
		names := slices.Sorted(maps.Keys(recs[0])) // one writer schema: one names slice
		for i, rec := range recs {
			if f.active.Sample() {
				values := make([]any, len(names))
				for j, n := range names {
					values[j] = rec[n]
				}
				f.active.Observe(names, values, scores[i])
			}
		}
	}
	// versionsReported returns the model versions the drift reports so far
	// name, in order.
	versionsReported := func(atLeast int) []string {
		var out []string
		for _, r := range e.Read(testworker.Reports, atLeast, 30*time.Second, 300*time.Millisecond) {
			out = append(out, r.Rec["model_version"].(string))
		}
		return out
	}
	waitLog := func(text string) {
		t.Helper()
		testkit.WaitFor(t, 30*time.Second, "log line "+text, func() bool { return strings.Contains(logs.String(), text) })
	}

	waitLog("drift monitoring on")
	observe(500)
	if got := versionsReported(1); got[len(got)-1] != "1" {
		t.Fatalf("reports name versions %v, want 1", got)
	}
	if err := sw.Swap(ctx, load("2")); err != nil {
		t.Fatal(err)
	}
	waitLog("version=2")
	observe(500)
	var got []string
	testkit.WaitFor(t, 30*time.Second, "a report for version 2", func() bool {
		got = versionsReported(1)
		return got[len(got)-1] == "2"
	})
	if err := sw.Swap(ctx, load("3")); err != nil {
		t.Fatal(err)
	}
	waitLog("the model version has no reference profile")
	observe(1000)
	time.Sleep(time.Second) // flushes would have closed two windows by now
	after := versionsReported(len(got))
	if len(after) != len(got) {
		t.Fatalf("reports %v after swapping to a version without a profile, want none beyond %v", after, got)
	}
	t.Logf("drift reports by version: %v", after)
}

// sigYAML is e's model's signature.yaml.
func sigYAML(t *testing.T, e *testworker.Env) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := training.WriteModelDir(dir, e.MLP, e.Sig); err != nil {
		t.Fatal(err)
	}
	return readFile(t, filepath.Join(dir, "signature.yaml"))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
