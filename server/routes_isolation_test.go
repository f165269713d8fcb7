package server

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/status"
	"github.com/sluice-ml/sluice/training"
)

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
	testkit.WaitFor(t, 30*time.Second, "the missing topic on /readyz", func() bool {
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
	// The status page says the same: not ready, the gone route's missing topic.
	resp, err := http.Get("http://" + run.AdminAddr.String() + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	var st status.Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rd := st.Readiness; rd == nil || rd.Ready || !slices.ContainsFunc(rd.Conditions, func(c admin.Condition) bool {
		return c.Route == "gone" && c.Name == "topic_missing" && strings.Contains(c.Detail, "gone-in")
	}) {
		t.Errorf("/api/status readiness %+v, want the gone route's missing topic", rd)
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
	testkit.WaitFor(t, 30*time.Second, "the slow route busy", func() bool {
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
