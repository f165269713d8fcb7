package faults

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// TestRedisDownTenSeconds kills redis-server for 10s under a running
// worker. Redis holds the schema registry's state; the worker decodes with
// the schemas it has cached, so predictions must keep flowing while Redis is
// down and after it is back, and the worker must leave no goroutine behind.
func TestRedisDownTenSeconds(t *testing.T) {
	// Registered first, so it runs last: after every server of the test
	// has stopped, nothing the test started may still run.
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) })

	e := newEnv(t, 4)
	w := e.startWorker(pipeline.Config{Group: "redis", MaxInFlight: 1024, Batch: batch(64)}, inprocOpts{})
	waitReady(t, w)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "redis")
	ctx := testkit.Context(t, 50*time.Second)

	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	before := out.waitAll(t, l, 20*time.Second)

	e.redis.Kill()
	down := time.Now()
	if code := registryStatus(t, e.registry+"/schemas/ids/1"); code < 500 {
		t.Errorf("schema registry answered %d with Redis down, want a 5xx", code)
	}
	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	during := out.waitAll(t, l, 8*time.Second)
	if took := time.Since(down); took > 10*time.Second {
		t.Fatalf("events published while Redis was down were scored only after %s", took)
	}
	time.Sleep(10*time.Second - time.Since(down))
	e.redis.Start()
	if code := registryStatus(t, e.registry+"/subjects"); code != http.StatusOK {
		t.Errorf("schema registry answered %d after Redis came back, want 200", code)
	}
	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 20*time.Second)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	f := out.settle(t, l)
	t.Logf("redis down 10s: %s (before %d, while down %d predictions)", f, before.Predictions, during.Predictions-before.Predictions)
	f.check(t, 0)
	if d := gauge(w.reg, "sluice_decode_retries_total"); d != 0 {
		t.Errorf("sluice_decode_retries_total = %v: decoding waited on the registry although its schemas were cached", d)
	}
}

// registryStatus GETs url and returns the status code (0 if unreachable).
func registryStatus(t *testing.T, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisDownTenSecondsWorkerProcess is the same outage under `sluice
// run`, whose Redis-backed part is the model-registry watcher: it must say
// that it cannot check the registry (a log line, and
// sluice_model_check_errors_total) while the current model keeps serving,
// and check successfully again once Redis is back.
func TestRedisDownTenSecondsWorkerProcess(t *testing.T) {
	e := newEnv(t, 4)
	admin := freeAddr(t)
	cfg := e.writeConfig(workerOpts{Group: "redis-proc", MaxInFlight: 1024, BatchSize: 64,
		CommitInterval: 200 * time.Millisecond, Grace: 5 * time.Second}, admin)
	w := startProc(t, "worker", admin, []string{"SLUICE_MODELS_CHECK_INTERVAL=500ms"}, "run", "--config", cfg)
	l := newLedger()
	out := newOutputs(t, e.kafka.Addr, e.client)
	pub := newPublisher(t, e.kafka.Addr, e.inputEnc, l, "redisproc")
	ctx := testkit.Context(t, 50*time.Second)
	checkErrors := func() float64 {
		v, err := w.metric("sluice_model_check_errors_total")
		if err != nil {
			return 0 // no series before the first failure
		}
		return v
	}

	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 20*time.Second)
	if n := checkErrors(); n != 0 {
		t.Fatalf("sluice_model_check_errors_total = %v with Redis up", n)
	}

	e.redis.Kill()
	down := time.Now()
	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 8*time.Second)
	if took := time.Since(down); took > 10*time.Second {
		t.Fatalf("events published while Redis was down were scored only after %s", took)
	}
	time.Sleep(10*time.Second - time.Since(down))
	failed := checkErrors()
	if failed == 0 {
		t.Error("sluice_model_check_errors_total did not move while Redis was down")
	}
	if !strings.Contains(w.log.String(), "checking the model registry; the current versions keep serving") {
		t.Error("no log line said that the model registry could not be checked")
	}
	e.redis.Start()
	// Recovered: checks stop failing by themselves.
	time.Sleep(2 * time.Second)
	settled := checkErrors()
	time.Sleep(2 * time.Second)
	if now := checkErrors(); now != settled {
		t.Errorf("registry checks still failing after Redis came back: %v → %v", settled, now)
	}
	if err := pub.publish(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	out.waitAll(t, l, 20*time.Second)
	if code, _ := w.term(10 * time.Second); code != 0 {
		t.Errorf("worker exited %d after SIGTERM", code)
	}
	f := out.settle(t, l)
	t.Logf("redis down 10s under sluice run: %s; %v failed registry checks while down", f, failed)
	f.check(t, 0)
}
