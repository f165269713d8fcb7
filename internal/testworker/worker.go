package testworker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/admin"
	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/worker"
)

// Options change how StartWorker builds the worker.
type Options struct {
	// Registry receives the worker's metrics (default: a new one).
	Registry *prometheus.Registry
	// Observer sees every scored event (drift).
	Observer pipeline.Observer
	// Handlers are registered on the admin server before it starts.
	Handlers func(w *pipeline.Worker, adm *admin.Server)
	// ReaderBrokers, when set, replaces the broker address the worker's
	// group reader dials (a closed port keeps the worker from joining).
	ReaderBrokers []string
	// Reader, when set, adjusts the group reader's config (timings).
	Reader func(*consumers.ReaderConfig)
	// ONNX and Sig, when set, replace the Env's model as fraud version 1.
	ONNX []byte
	Sig  *inference.Signature
	// Models, when set, is what the worker serves instead (hot-swap and
	// canary tests); CloseModels, if set, runs after the worker stopped.
	Models      pipeline.Models
	CloseModels func() error
	// Client, when set, is the worker's schema registry client instead of
	// the Env's (a test can route it through a proxy).
	Client *schemas.Client
	// Log receives the worker's log at info level (default: discarded).
	Log io.Writer
}

// Worker is a running worker and its admin server.
type Worker struct {
	W   *worker.Worker
	Reg *prometheus.Registry
	// URL is the admin server's base URL (http://127.0.0.1:port).
	URL string
	// Stop stops the worker (draining it); the admin server keeps
	// answering until the test ends.
	Stop func() error
}

// StartWorker loads the Env's model (or o's) as fraud version 1 and runs a
// worker with it until the test ends.
func (e *Env) StartWorker(cfg pipeline.Config, o Options) *Worker {
	t := e.t
	t.Helper()
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	models, closeModels := o.Models, o.CloseModels
	if models == nil {
		onnx, sig := e.ONNX, e.Sig
		if o.ONNX != nil {
			onnx, sig = o.ONNX, o.Sig
		}
		// Two sessions, as a worker runs by default on two or more cores:
		// the infer stage scores two batches at once.
		model, err := inference.LoadModel("fraud", "1", onnx, sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 2}, inference.NewMetrics(reg))
		if err != nil {
			t.Fatal(err)
		}
		models, closeModels = pipeline.NewStaticModel(model), model.Close
	}
	if closeModels == nil {
		closeModels = func() error { return nil }
	}
	client := e.Client
	if o.Client != nil {
		client = o.Client
	}
	brokers := []string{e.Kafka.Addr}
	rc := consumers.ReaderConfig{Brokers: o.ReaderBrokers, MaxWait: 50 * time.Millisecond}
	if o.Reader != nil {
		o.Reader(&rc)
	}
	logTo := io.Discard
	if o.Log != nil {
		logTo = o.Log
	}
	w, err := worker.New(t.Context(), worker.Config{Pipeline: cfg, Consumer: rc},
		worker.Clients{Brokers: brokers, Registry: client},
		worker.Parts{Models: models, Observer: o.Observer, Metrics: reg,
			Logger: slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	adm := admin.New(admin.Config{Addr: "127.0.0.1:0"}, reg, func() []admin.Condition {
		var out []admin.Condition
		for _, c := range w.NotReady() {
			out = append(out, admin.Condition{Name: c.Name, Detail: c.Detail})
		}
		return out
	})
	if o.Handlers != nil {
		o.Handlers(w.Worker, adm)
	}
	addr, err := adm.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	done, adminDone := make(chan error, 1), make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	go func() { adminDone <- adm.Run(adminCtx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				runErr = fmt.Errorf("worker did not stop within 60s")
			}
			_ = closeModels()
		})
		return runErr
	}
	t.Cleanup(func() {
		_ = stop()
		stopAdmin()
		if err := <-adminDone; err != nil {
			t.Errorf("admin server: %v", err)
		}
	})
	return &Worker{W: w, Reg: reg, URL: "http://" + addr.String(), Stop: stop}
}

// WaitReady waits until the worker has joined its group and its admin
// server answers /readyz with 200.
func (w *Worker) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(w.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker was not ready within 30s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitAllReady waits until every one of ws is ready (a member of its
// group, its topics there: see pipeline.Worker.NotReady), at most 30s in
// all.
func WaitAllReady(t testing.TB, ws ...*worker.Worker) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, w := range ws {
		for !w.Ready() {
			if time.Now().After(deadline) {
				t.Fatalf("workers not ready within 30s: %v", w.NotReady())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
