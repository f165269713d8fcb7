package bench

import (
	"context"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
)

// discard is a drift.Sink that drops reports: the benchmark measures what
// observing and flushing cost the worker, not publishing.
type discard struct{}

func (discard) Emit(context.Context, string, string, map[string]any, string) error { return nil }

// pipelineWithDrift is pipelineRate with the drift monitor observing every
// scored event and flushing its windows to Redis, as a worker runs it.
// maxRate is drift.max_rate (0: its default, -1: bin every event).
func pipelineWithDrift(ctx context.Context, e *env, m *model, im *inference.Model, batch inference.BatchConfig, n, maxInFlight, sampleEvery, maxRate int) (float64, error) {
	recs := make([]map[string]any, 20000)
	for i := range recs {
		recs[i] = m.next()
	}
	p, err := drift.BuildProfile(drift.FeaturesFromSignature(m.sig), func(yield func(map[string]any, float32) bool) {
		for _, r := range recs {
			if !yield(r, 0.5) {
				return
			}
		}
	}, drift.ProfileOptions{})
	if err != nil {
		return 0, err
	}
	cfg := drift.DefaultConfig()
	cfg.SampleEvery = sampleEvery
	if maxRate != 0 {
		cfg.MaxRate = maxRate
	}
	mon, err := drift.NewMonitor(cfg, m.name, "1", p, e.rdb, discard{}, drift.WithLogger(e.log))
	if err != nil {
		return 0, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mon.Run(mctx) }()
	defer func() { cancel(); <-done }()
	w, err := startWorker(ctx, e, im, batch, maxInFlight, mon)
	if err != nil {
		return 0, err
	}
	defer w.stop()
	return measure(ctx, n, w.done.Load)
}
