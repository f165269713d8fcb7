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

// driftProfile is m's reference profile, from 20,000 of its events. The
// bench builds it once, before the timed runs: building it allocates tens
// of megabytes that would otherwise be collected during a run.
func driftProfile(m *model) (*drift.Profile, error) {
	recs := make([]map[string]any, 20000)
	for i := range recs {
		recs[i] = m.next()
	}
	return drift.BuildProfile(drift.FeaturesFromSignature(m.sig), func(yield func(map[string]any, float32) bool) {
		for _, r := range recs {
			if !yield(r, 0.5) {
				return
			}
		}
	}, drift.ProfileOptions{})
}

// startMonitor starts a drift monitor on profile p, flushing its windows to
// the env's Redis as a worker's does, and returns it with the func that
// stops it. maxRate is drift.max_rate (0: its default, -1: bin every event).
func startMonitor(ctx context.Context, e *env, m *model, p *drift.Profile, sampleEvery, maxRate int) (*drift.Monitor, func(), error) {
	cfg := drift.DefaultConfig()
	cfg.SampleEvery = sampleEvery
	if maxRate != 0 {
		cfg.MaxRate = maxRate
	}
	mon, err := drift.NewMonitor(cfg, m.name, "1", p, e.rdb, discard{}, drift.WithLogger(e.log))
	if err != nil {
		return nil, nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mon.Run(mctx) }()
	return mon, func() { cancel(); <-done }, nil
}

// pipelineWithDrift is pipelineRate with a drift monitor on profile p
// observing the scored events (see startMonitor).
func pipelineWithDrift(ctx context.Context, e *env, m *model, p *drift.Profile, im *inference.Model, batch inference.BatchConfig, n, maxInFlight, sampleEvery, maxRate int) (runRate, error) {
	mon, stopMon, err := startMonitor(ctx, e, m, p, sampleEvery, maxRate)
	if err != nil {
		return runRate{}, err
	}
	defer stopMon()
	w, err := startWorker(ctx, e, im, batch, maxInFlight, mon)
	if err != nil {
		return runRate{}, err
	}
	defer w.stop()
	return measure(ctx, e, n, w.done.Load)
}
