package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/worker"
)

// running is a running pipeline.Worker with counters the bench reads.
type running struct {
	w    *worker.Worker
	done atomic.Int64

	mu        sync.Mutex
	recording bool
	lat       []time.Duration

	stop func()
}

func startWorker(ctx context.Context, e *env, m *inference.Model, batch inference.BatchConfig, maxInFlight int, obs ...pipeline.Observer) (*running, error) {
	return startWorkerOn(ctx, e, "features", fmt.Sprintf("bench-%d", time.Now().UnixNano()), m, batch, maxInFlight, obs...)
}

// startWorkerOn starts a worker on topic in group; it returns once the
// worker has joined the group.
func startWorkerOn(ctx context.Context, e *env, topic, group string, m *inference.Model, batch inference.BatchConfig, maxInFlight int, obs ...pipeline.Observer) (*running, error) {
	wk := &running{}
	w, err := worker.New(ctx, worker.Config{
		Pipeline: pipeline.Config{InputTopic: topic, DLQTopic: "features.dlq", Group: group, Batch: batch, MaxInFlight: maxInFlight},
		// A short heartbeat, so a member notices a rebalance quickly (the
		// scale runs start a second worker beside the first).
		Consumer: consumers.ReaderConfig{HeartbeatInterval: 200 * time.Millisecond},
	}, worker.Clients{Brokers: []string{e.addr}, Registry: e.client}, worker.Parts{
		Observer: firstObserver(obs),
		Models:   pipeline.NewStaticModel(m),
		Logger:   e.log,
		Metrics:  prometheus.NewRegistry(),
		OnLatency: func(d time.Duration) {
			wk.done.Add(1)
			wk.mu.Lock()
			if wk.recording {
				wk.lat = append(wk.lat, d)
			}
			wk.mu.Unlock()
		},
	})
	if err != nil {
		return nil, err
	}
	wk.w = w
	ctx, cancel := context.WithCancel(ctx)
	exited := make(chan struct{})
	go func() { _ = w.Run(ctx); close(exited) }()
	wk.stop = func() { cancel(); <-exited }
	deadline := time.Now().Add(30 * time.Second)
	for !w.Ready() {
		if time.Now().After(deadline) {
			wk.stop()
			return nil, fmt.Errorf("worker did not join its group in 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return wk, nil
}

// record starts (on) or stops (off) keeping latencies, and returns what was
// kept when it stops.
func (w *running) record(on bool) []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recording = on
	out := w.lat
	w.lat = nil
	return out
}

func firstObserver(obs []pipeline.Observer) pipeline.Observer {
	if len(obs) == 0 {
		return nil
	}
	return obs[0]
}

// doneBy counts the events that workers ws have finished between them, for
// measure.
func doneBy(ws []*running) func() int64 {
	return func() int64 {
		var sum int64
		for _, w := range ws {
			sum += w.done.Load()
		}
		return sum
	}
}
