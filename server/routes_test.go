package server

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/inference"
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
			waitFor(t, 30*time.Second, "every route ready", func() bool { return run.readyz(t).Ready })
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

// A route whose model cannot load does not stop the process or the route
// beside it: the healthy route scores every event, /readyz is 503 naming
// the broken route and why, and 200 once that route is optional.
func TestBrokenModelBesideAHealthyOne(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 2)
	good, _ := constantModel(t, 1)
	bad := t.TempDir()
	sig, err := os.ReadFile(filepath.Join(good, "signature.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"model.onnx": []byte("not an onnx model"), "signature.yaml": sig} {
		if err := os.WriteFile(filepath.Join(bad, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, optional := range []bool{false, true} {
		t.Run(fmt.Sprintf("optional=%v", optional), func(t *testing.T) {
			p := fmt.Sprintf("%v-", optional) // topics of their own
			for _, topic := range []string{"good-in", "good-in.dlq", "good-out", "bad-in", "bad-in.dlq", "bad-out"} {
				e.Kafka.CreateTopic(t, p+topic, 2)
			}
			cfg := routesConfig(e,
				config.Route{Name: "good", InputTopic: p + "good-in", OutputTopic: p + "good-out", Model: "good", ModelDir: good},
				config.Route{Name: "bad", InputTopic: p + "bad-in", OutputTopic: p + "bad-out", Model: "bad", ModelDir: bad, Optional: optional})
			run := startRun(t, cfg)
			f := newFeed(t, e, p+"good-in", 7)
			f.publish(t, 200)
			f.check(t, p+"good-out", "good")
			newFeed(t, e, p+"bad-in", 8).publish(t, 10)
			rz := run.readyz(t)
			var bad, goodReady bool
			for _, r := range rz.Routes {
				switch r.Name {
				case "good":
					goodReady = r.Ready
				case "bad":
					bad = !r.Ready && len(r.Conditions) == 1 && r.Conditions[0].Condition == "model_not_loaded" &&
						strings.Contains(r.Conditions[0].Detail, "loading model bad")
				}
			}
			if !goodReady || !bad {
				t.Errorf("/readyz routes: %+v", rz.Routes)
			}
			if wantCode := map[bool]int{false: 503, true: 200}[optional]; rz.Code != wantCode {
				t.Errorf("/readyz answered %d, want %d: %+v", rz.Code, wantCode, rz)
			}
			if !optional && (len(rz.Conds) != 1 || rz.Conds[0].Route != "bad") {
				t.Errorf("/readyz conditions %+v, want the bad route's", rz.Conds)
			}
			if committed, _ := testkit.Value(run.Registry, "sluice_events_consumed_total", "route", "bad"); committed != 0 {
				t.Errorf("the broken route consumed %v events", committed)
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
// event, and no key's events go back to an older version.
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
	waitFor(t, 30*time.Second, "both fraud routes serving version 2", func() bool {
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
	waitFor(t, 30*time.Second, "both routes' drift monitors on", func() bool { // their sampling gauge is set when they start
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

// A route whose input topic does not exist is not ready and consumes
// nothing, while the route beside it scores every event.
func TestMissingTopicBesideAHealthyRoute(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 2)
	for _, topic := range []string{"ok-in", "ok-in.dlq", "ok-out", "gone-out", "gone-in.dlq"} {
		e.Kafka.CreateTopic(t, topic, 2)
	}
	dir, _ := constantModel(t, 1)
	cfg := routesConfig(e,
		config.Route{Name: "ok", InputTopic: "ok-in", OutputTopic: "ok-out", Model: "m", ModelDir: dir},
		config.Route{Name: "gone", InputTopic: "gone-in", OutputTopic: "gone-out", Model: "m", ModelDir: dir})
	run := startRun(t, cfg)
	f := newFeed(t, e, "ok-in", 41)
	f.publish(t, 300)
	f.check(t, "ok-out", "m")
	waitFor(t, 30*time.Second, "the missing topic on /readyz", func() bool {
		for _, r := range run.readyz(t).Routes {
			for _, c := range r.Conditions {
				if r.Name == "gone" && c.Condition == "topic_missing" && strings.Contains(c.Detail, "gone-in") {
					return true
				}
			}
		}
		return false
	})
	rz := run.readyz(t)
	if rz.Code != 503 || len(rz.Routes) != 2 || !rz.Routes[0].Ready || rz.Routes[1].Ready {
		t.Errorf("/readyz %d %+v", rz.Code, rz.Routes)
	}
	if err := run.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// slowModel writes a demo-shaped model with three wide hidden layers, far
// slower per event than the demo model, into a new directory.
func slowModel(t *testing.T, hidden int) string {
	t.Helper()
	sig := training.DemoSignature()
	r := rand.New(rand.NewPCG(3, 9))
	dense := func(in, out int, act string) training.Dense {
		d := training.Dense{W: make([][]float32, out), B: make([]float32, out), Act: act}
		for i := range d.W {
			d.W[i] = make([]float32, in)
			for j := range d.W[i] {
				d.W[i][j] = float32(r.NormFloat64() * 0.01)
			}
		}
		return d
	}
	mlp := &training.MLP{Layers: []training.Dense{dense(sig.Width(), hidden, training.ActRelu), dense(hidden, hidden, training.ActRelu),
		dense(hidden, hidden, training.ActRelu), dense(hidden, sig.OutWidth(), training.ActNone)}, Output: training.OutputSoftmax}
	dir := t.TempDir()
	if err := training.WriteModelDir(dir, mlp, sig); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A route whose model is slow does not hold back the route beside it: the
// fast route scores all of its events while the slow route still has a
// backlog, and the slow route then catches up.
func TestSlowRouteBesideAFastOne(t *testing.T) {
	initRuntime(t)
	e := testworker.New(t, 2)
	for _, topic := range []string{"slow-in", "slow-in.dlq", "slow-out", "fast-in", "fast-in.dlq", "fast-out"} {
		e.Kafka.CreateTopic(t, topic, 2)
	}
	fast, _ := constantModel(t, 1)
	cfg := routesConfig(e,
		config.Route{Name: "slow", InputTopic: "slow-in", OutputTopic: "slow-out", Model: "slow", ModelDir: slowModel(t, 2048), MaxInFlight: 512,
			Batch: inference.BatchConfig{MaxBatchSize: 64}},
		config.Route{Name: "fast", InputTopic: "fast-in", OutputTopic: "fast-out", Model: "fast", ModelDir: fast})
	cfg.Inference.Provider = inference.ProviderCPU
	run := startRun(t, cfg)
	const backlog = 5000
	slow := newFeed(t, e, "slow-in", 51)
	slow.publish(t, backlog)
	waitFor(t, 30*time.Second, "the slow route busy", func() bool {
		n, _ := testkit.Value(run.Registry, "sluice_predictions_produced_total", "route", "slow")
		return n > 0
	})
	f := newFeed(t, e, "fast-in", 52)
	f.publish(t, 300)
	f.check(t, "fast-out", "fast")
	done, _ := testkit.Value(run.Registry, "sluice_predictions_produced_total", "route", "slow")
	t.Logf("when the fast route had scored its 300 events, the slow one had scored %v of %d", done, backlog)
	if done >= backlog {
		t.Errorf("the slow route finished its %d events before the fast route its 300: the test proves nothing (the slow model is not slow enough)", backlog)
	}
	slow.check(t, "slow-out", "slow")
	if err := run.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
