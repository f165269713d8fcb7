package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/registry"
)

// Promote and roll back under load across two workers: nothing lost or
// predicted twice, no dead letters, every prediction names the version
// that scored it (version 1 predicts legit for every event, version 2
// fraud), per partition the versions change once at each swap point and
// never flip back and forth, events sent while both workers serve version 2
// are scored by it, and events sent after the rollback by version 1.
func TestPromoteAndRollbackUnderLoad(t *testing.T) {
	e := newEnv(t, 4)
	ctx := t.Context()
	models := registry.New(e.Redis, registry.Config{CheckInterval: 200 * time.Millisecond})
	for _, v := range []string{"1", "2"} {
		onnx, sigYAML := e.constantFiles(versionClass[v])
		if got, err := models.Register(ctx, "fraud", registry.RegisterRequest{ONNX: onnx, Signature: sigYAML}); err != nil || got.Version != v {
			t.Fatalf("registering version %s: %+v, %v", v, got, err)
		}
	}
	if _, err := models.Promote(ctx, "fraud", "1", registry.StageProduction, registry.PromoteOptions{}); err != nil {
		t.Fatal(err)
	}

	var workers []*running
	var swappers []*inference.Swapper
	for range 2 {
		sw := inference.NewSwapper(e.loadVersion("1"))
		wa, err := registry.NewWatcher(models, sw, registry.WatcherConfig{
			Model: "fraud", Session: inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 2},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = wa.Run(wctx) }()
		w := e.startWorkerWith(pipeline.Config{Group: "swap"}, sw, func() error { stop(); <-done; return sw.Close() })
		workers, swappers = append(workers, w), append(swappers, sw)
	}
	waitReady(t, workers...)
	serving := func(v string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for _, sw := range swappers {
			for sw.Current().Version() != v {
				if time.Now().After(deadline) {
					t.Fatalf("workers do not serve version %s within 30s", v)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	var published atomic.Int64
	publish := func(n int, seed int64) []map[string]any {
		recs := e.Publish(n, seed)
		published.Add(int64(n))
		return recs
	}
	// predictedAll waits until the workers have predicted every event
	// published so far.
	predictedAll := func() {
		t.Helper()
		want := float64(published.Load())
		deadline := time.Now().Add(60 * time.Second)
		for {
			var got float64
			for _, w := range workers {
				got += testutil.ToFloat64(counter(t, w.reg, "sluice_predictions_produced_total"))
			}
			if got >= want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v of %v events predicted within 60s", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Events flow the whole time; the swaps happen under them.
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	load.Go(func() {
		for seed := int64(100); ; seed++ {
			select {
			case <-stopLoad:
				return
			case <-time.After(50 * time.Millisecond):
			}
			publish(250, seed)
		}
	})
	time.Sleep(300 * time.Millisecond)
	if _, err := models.Promote(ctx, "fraud", "2", registry.StageProduction, registry.PromoteOptions{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	serving("2")
	onV2 := publish(1000, 1)
	predictedAll() // before the rollback
	time.Sleep(300 * time.Millisecond)
	if _, err := models.Rollback(ctx, "fraud", "test"); err != nil {
		t.Fatal(err)
	}
	serving("1")
	afterRollback := publish(1000, 2)
	time.Sleep(300 * time.Millisecond)
	close(stopLoad)
	load.Wait()

	n := int(published.Load())
	preds := e.Read("predictions", n, 90*time.Second, time.Second)
	if len(preds) != n {
		t.Fatalf("%d predictions for %d events", len(preds), n)
	}
	checkScoredBy(t, "swap", preds)
	version := map[string]string{} // event id -> version that scored it
	runs := map[int][]string{}     // partition -> versions in order, collapsed
	for _, p := range preds {
		id, v := p.Rec["event_id"].(string), p.Rec["model_version"].(string)
		if _, seen := version[id]; seen {
			t.Fatalf("event %s predicted twice", id)
		}
		version[id] = v
		r := runs[p.Msg.Partition]
		if len(r) == 0 || r[len(r)-1] != v {
			runs[p.Msg.Partition] = append(r, v)
		}
	}
	for _, c := range []struct {
		what string
		recs []map[string]any
		want string
	}{{"sent while both workers served version 2", onV2, "2"}, {"sent after the rollback", afterRollback, "1"}} {
		for _, rec := range c.recs {
			if v := version[rec["event_id"].(string)]; v != c.want {
				t.Fatalf("an event %s was scored by version %q, want %s", c.what, v, c.want)
			}
		}
	}
	t.Logf("versions per partition, in order: %v", runs)
	swaps := []string{"1", "2", "1"}
	for part, r := range runs {
		// A partition may have had no events before a swap, but none may
		// go back and forth: its run is a contiguous part of 1, 2, 1.
		ok := false
		for i := range swaps {
			for j := i + 1; j <= len(swaps); j++ {
				ok = ok || slices.Equal(r, swaps[i:j])
			}
		}
		if !ok {
			t.Errorf("partition %d served versions %q; want a run of 1, then 2, then 1 (one change at each swap)", part, r)
		}
	}
	if dl := e.Read("features.dlq", 0, time.Second, 300*time.Millisecond); len(dl) != 0 {
		t.Errorf("%d dead letters during the swaps", len(dl))
	}
}
