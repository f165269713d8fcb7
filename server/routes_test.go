package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/training"
)

// One process serves two and four routes over a real broker, each its own
// model and version from its own model_dir; and two routes read one input
// topic in two groups, each model scoring every event. Every route's
// output holds each of its events exactly once, per-key order kept, from
// its own model and version; /readyz lists every route, ready; the
// series carry the route label.
func TestRoutesInOneProcess(t *testing.T) {
	initRuntime(t)
	for _, tt := range []struct {
		name   string
		routes int
		shared bool // every route reads in-0
	}{
		{"two routes", 2, false},
		{"four routes", 4, false},
		{"two routes on one input topic", 2, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := testworker.New(t, 2)
			var routes []config.Route
			feeds := map[string]*feed{}
			for i := range tt.routes {
				in := fmt.Sprintf("in-%d", i)
				if tt.shared {
					in = "in-0"
				}
				out := fmt.Sprintf("out-%d", i)
				if feeds[in] == nil {
					for _, topic := range []string{in, in + ".dlq"} {
						e.Kafka.CreateTopic(t, topic, 2)
					}
					feeds[in] = newFeed(t, e, in, int64(100+i))
				}
				e.Kafka.CreateTopic(t, out, 2)
				dir, _ := constantModel(t, i%2)
				routes = append(routes, config.Route{Name: fmt.Sprintf("r%d", i), InputTopic: in, OutputTopic: out,
					Model: fmt.Sprintf("m%d", i), ModelDir: dir, ModelVersion: fmt.Sprintf("%d", 10+i)})
			}
			run := startRun(t, routesConfig(e, routes...))
			if len(run.Routes) != tt.routes {
				t.Fatalf("%d route workers, want %d", len(run.Routes), tt.routes)
			}
			for _, f := range feeds {
				f.publish(t, 300)
			}
			for i, r := range routes {

				for id, v := range feeds[r.InputTopic].check(t, r.OutputTopic, r.Model).versions {
					if v != r.ModelVersion {
						t.Fatalf("route %d: event %s scored by version %s, want %s", i, id, v, r.ModelVersion)
					}
				}
				if n, _ := testkit.Value(run.Registry, "sluice_predictions_produced_total", "route", r.Name); n < 300 {
					t.Errorf("sluice_predictions_produced_total{route=%q} = %v, want at least 300", r.Name, n)
				}
			}
			for _, r := range routes { // the Open Inference Protocol serves every route's model
				if body := get(t, "http://"+run.AdminAddr.String()+"/v2/models/"+r.Model); !strings.Contains(body, `"name":"`+r.Model+`"`) ||
					!strings.Contains(body, `"versions":["`+r.ModelVersion+`"]`) {
					t.Errorf("/v2/models/%s: %s", r.Model, body)
				}
			}
			testkit.WaitFor(t, 30*time.Second, "every route ready", func() bool { return run.readyz(t).Ready })
			rz := run.readyz(t)
			if rz.Code != 200 || len(rz.Routes) != tt.routes {
				t.Errorf("/readyz %d %+v", rz.Code, rz)
			}
			if err := run.stop(); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
}

// Three routes run: two on model fraud (from the registry), one on model
// churn (a model_dir). Promoting fraud version 2 swaps both fraud routes
// while events flow, and leaves churn alone; no route loses or repeats an
// event, and no key's events go back to an older version. A rollback then
// swaps both fraud routes back.
func TestHotSwapOfOneModelWhileRoutesRun(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 2)
	for _, topic := range []string{"a-in", "a-in.dlq", "a-out", "b-in", "b-in.dlq", "b-out", "c-in", "c-in.dlq", "c-out", "predictions.shadow", "a-out.shadow", "b-out.shadow", "c-out.shadow", "model-events"} {
		e.Kafka.CreateTopic(t, topic, 2)
	}
	v1, _ := constantModel(t, 0)
	v2, _ := constantModel(t, 1)
	churn, _ := constantModel(t, 1)
	models := registry.New(e.Redis, registry.Config{})
	register := func(dir string, stage registry.Stage) {
		t.Helper()
		onnx, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := os.ReadFile(filepath.Join(dir, "signature.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := models.Register(t.Context(), "fraud", registry.RegisterRequest{ONNX: onnx, Signature: sig, Stage: stage}); err != nil {
			t.Fatal(err)
		}
	}
	feeds := map[string]*feed{}
	for i, in := range []string{"a-in", "b-in", "c-in"} {
		feeds[in] = newFeed(t, e, in, int64(20+i)) // registers the input subjects the watcher checks versions against
	}
	register(v1, registry.StageProduction)
	cfg := routesConfig(e,
		config.Route{Name: "a", InputTopic: "a-in", OutputTopic: "a-out", Model: "fraud"},
		config.Route{Name: "b", InputTopic: "b-in", OutputTopic: "b-out", Model: "fraud"},
		config.Route{Name: "c", InputTopic: "c-in", OutputTopic: "c-out", Model: "churn", ModelDir: churn, ModelVersion: "7"})
	cfg.Models.CheckInterval = 200 * time.Millisecond
	run := startRun(t, cfg)
	for _, f := range feeds {
		f.publish(t, 200)
	}
	done := make(chan struct{})
	go func() { // events flow while the version changes
		defer close(done)
		for range 5 {
			for _, f := range feeds {
				f.publish(t, 40)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	register(v2, registry.StageProduction)
	<-done
	testkit.WaitFor(t, 30*time.Second, "both fraud routes serving version 2", func() bool {
		for _, r := range run.Routes[:2] {
			if m := r.Worker.Serving(); m == nil || m.Version() != "2" {
				return false
			}
		}
		return true
	})
	for _, f := range feeds {
		f.publish(t, 200)
	}
	for _, rt := range []struct{ in, out, model string }{{"a-in", "a-out", "fraud"}, {"b-in", "b-out", "fraud"}, {"c-in", "c-out", "churn"}} {
		f := feeds[rt.in]
		s := f.check(t, rt.out, rt.model)
		last := map[string]string{}
		for _, id := range f.ids {
			v := s.versions[id]
			if rt.model == "churn" && v != "7" {
				t.Fatalf("churn event %s scored by version %s", id, v)
			}
			if rt.model == "fraud" && last[f.keys[id]] == "2" && v == "1" {
				t.Fatalf("%s: key %s went back to version 1", rt.out, f.keys[id])
			}
			last[f.keys[id]] = v
		}
		for _, id := range f.ids[len(f.ids)-200:] {
			if want := map[string]string{"fraud": "2", "churn": "7"}[rt.model]; s.versions[id] != want {
				t.Fatalf("%s: event %s after the swap scored by version %s, want %s", rt.out, id, s.versions[id], want)
			}
		}
	}
	// A rollback swaps both fraud routes back to version 1, churn still 7.
	if _, err := models.Rollback(t.Context(), "fraud", "test"); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 30*time.Second, "both fraud routes back on version 1", func() bool {
		for _, r := range run.Routes[:2] {
			if m := r.Worker.Serving(); m == nil || m.Version() != "1" {
				return false
			}
		}
		return true
	})
	if m := run.Routes[2].Worker.Serving(); m == nil || m.Name() != "churn" || m.Version() != "7" {
		t.Errorf("route c serves %v after fraud's rollback", m)
	}
	if err := run.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// Two routes on one model keep their drift windows apart: route a's
// traffic closes a window under route a's keys, counted on route a's
// series, and route b, with no traffic, closes none.
func TestDriftWindowsPerRoute(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 2)
	for _, topic := range []string{"in-a", "in-a.dlq", "out-a", "in-b", "in-b.dlq", "out-b"} {
		e.Kafka.CreateTopic(t, topic, 2)
	}
	dir := t.TempDir()
	if err := training.WriteModelDir(dir, e.MLP, e.Sig); err != nil {
		t.Fatal(err)
	}
	if err := e.DemoProfile(t).WriteFile(filepath.Join(dir, ProfileFile)); err != nil {
		t.Fatal(err)
	}
	cfg := routesConfig(e,
		config.Route{Name: "a", InputTopic: "in-a", OutputTopic: "out-a"},
		config.Route{Name: "b", InputTopic: "in-b", OutputTopic: "out-b"})
	cfg.Model.Dir = dir
	cfg.Drift.Enabled = true
	cfg.Drift.WindowEvents, cfg.Drift.MinWindowEvents, cfg.Drift.FlushEvents = 200, 50, 50
	cfg.Drift.FlushInterval, cfg.Drift.MaxRate = 50*time.Millisecond, -1
	run := startRun(t, cfg)
	testkit.WaitFor(t, 30*time.Second, "both routes' drift monitors on", func() bool { // their sampling gauge is set when they start
		_, a := testkit.Value(run.Registry, "sluice_drift_sample_every", "route", "a")
		_, b := testkit.Value(run.Registry, "sluice_drift_sample_every", "route", "b")
		return a && b
	})
	f := newFeed(t, e, "in-a", 31)
	f.publish(t, 600)
	f.check(t, "out-a", "fraud")
	closed := func(route string) float64 {
		v, _ := testkit.Value(run.Registry, "sluice_drift_windows_closed_total", "route", route, "drifted", "false")
		w, _ := testkit.Value(run.Registry, "sluice_drift_windows_closed_total", "route", route, "drifted", "true")
		return v + w
	}
	deadline := time.Now().Add(30 * time.Second)
	for closed("a") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("route a closed %v windows in 30s, want one\n%s", closed("a"), run.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := closed("b"); n != 0 {
		t.Errorf("route b, with no traffic, closed %v windows", n)
	}
	keys, err := e.Redis.Keys(t.Context(), "sluice:drift:{fraud:1}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var underA int
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "sluice:drift:{fraud:1}:r:a:"):
			underA++
		case strings.HasPrefix(k, "sluice:drift:{fraud:1}:r:b:w:"), strings.HasPrefix(k, "sluice:drift:{fraud:1}:w:"):
			t.Errorf("window key %s: route a's traffic outside route a's keys", k)
		}
	}
	if underA == 0 {
		t.Errorf("no drift key under route a: %v", keys)
	}
	if err := run.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
