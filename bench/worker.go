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
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
)

// worker is a running pipeline.Worker with counters the bench reads.
type worker struct {
	w    *pipeline.Worker
	done atomic.Int64

	mu        sync.Mutex
	recording bool
	lat       []time.Duration

	stop func()
}

func startWorker(ctx context.Context, e *env, m *inference.Model, batch inference.BatchConfig, maxInFlight int, obs ...pipeline.Observer) (*worker, error) {
	return startWorkerOn(ctx, e, "features", fmt.Sprintf("bench-%d", time.Now().UnixNano()), m, batch, maxInFlight, obs...)
}

// startWorkerOn starts a worker on topic in group; it returns once the
// worker has joined the group.
func startWorkerOn(ctx context.Context, e *env, topic, group string, m *inference.Model, batch inference.BatchConfig, maxInFlight int, obs ...pipeline.Observer) (*worker, error) {
	enc, err := schemas.NewEncoder(ctx, e.client, schemas.Subject("predictions"), schemas.PredictionSchema())
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	wk := &worker{}
	w, err := pipeline.New(pipeline.Config{
		InputTopic: topic, DLQTopic: "features.dlq", Group: group, Batch: batch, MaxInFlight: maxInFlight,
	}, pipeline.Deps{
		// A short heartbeat, so a member notices a rebalance quickly (the
		// scale runs start a second worker beside the first).
		Reader:   consumers.ReaderConfig{Brokers: []string{e.addr}, HeartbeatInterval: 200 * time.Millisecond},
		Writer:   producers.WriterConfig{Brokers: []string{e.addr}},
		Decoder:  schemas.NewDecoder(e.client, 0),
		Encoder:  enc,
		Observer: firstObserver(obs),
		Models:   pipeline.NewStaticModel(m),
		Logger:   e.log,
		Metrics:  pipeline.NewMetrics(reg),
		Consumer: consumers.NewMetrics(reg),
		Producer: producers.NewMetrics(reg),
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
func (w *worker) record(on bool) []time.Duration {
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
