package pipeline_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
)

// The drift tap is shown every event it picks, as the worker decoded it,
// even when the traffic stops before a chunk of picked events fills: 40
// events, fewer than a chunk, make one window of 40 whose report counts
// them all, with the numeric features the profile bins seen (not missing).
func TestDriftTapSeesPickedEventsWhenTrafficStops(t *testing.T) {
	e := newEnv(t, 2)
	mon, err := drift.NewMonitor(drift.Config{WindowEvents: 40, MinWindowEvents: 1, FlushInterval: 100 * time.Millisecond, FlushEvents: 40, MaxRate: -1},
		"fraud", "1", e.DemoProfile(t), e.Redis, e.NewSink(), drift.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	var tap drift.Active
	tap.Set(mon)
	ctx := t.Context()
	done := make(chan struct{})
	go func() { defer close(done); _ = mon.Run(ctx) }()
	t.Cleanup(func() { <-done })
	e.StartWorker(pipeline.Config{}, testworker.Options{Observer: &tap, Client: e.Client}).WaitReady(t)
	e.Publish(40, 31)

	reps := e.Read(testworker.Reports, 1, 20*time.Second, 300*time.Millisecond)
	if len(reps) != 1 {
		t.Fatalf("%d drift reports for one window", len(reps))
	}
	r := reps[0].Rec
	if r["events"] != int64(40) || r["incomplete"] != false {
		t.Fatalf("window report: %d events, incomplete %v; want all 40 events", r["events"], r["incomplete"])
	}
	for _, f := range r["features"].([]any) {
		f := f.(map[string]any)
		if f["feature"] == "amount" {
			if missing := f["missing"]; missing != 0.0 {
				t.Fatalf("amount: missing fraction %v in the window, want 0: %v", missing, f)
			}
			return
		}
	}
	t.Fatalf("no test of feature amount in %v", r["features"])
}
