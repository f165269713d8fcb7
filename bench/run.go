package bench

import (
	"context"
	"runtime"
	"slices"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/inference"
)

var rawBatches = []int{1, 8, 64, 256, 1024}

func runModel(ctx context.Context, o Options, name string) (Result, error) {
	sz := sizesFor(o.Quick)
	o.progress("%s: preparing the model", name)
	var m *model
	var err error
	if name == "heavy" {
		m, err = heavyModel()
	} else {
		m, err = demoModel()
	}
	if err != nil {
		return Result{}, err
	}
	batch := inference.BatchConfig{}.WithDefaults()
	// The sessions a worker of this thread budget runs, and for the raw
	// figure beside each pipeline run one session of the whole budget too.
	sc := inference.SessionConfig{Provider: o.Provider, ThreadBudget: o.Threads, Sessions: o.Sessions}.Budget(1)
	res := Result{Model: name, CPU: cpuName(), Threads: sc.IntraOpThreads, Sessions: sc.Sessions, BatchSize: batch.MaxBatchSize, RawByBatch: map[int]float64{}}
	im, err := inference.LoadModel(name, "1", m.onnx, m.sig, sc, nil)
	if err != nil {
		return res, err
	}
	defer im.Close()
	res.Provider = string(im.Provider())
	rawModels := []*inference.Model{im}
	if sc.Sessions > 1 {
		one, err := inference.LoadModel(name, "1", m.onnx, m.sig, inference.SessionConfig{Provider: o.Provider, Sessions: 1, IntraOpThreads: o.Threads}, nil)
		if err != nil {
			return res, err
		}
		defer one.Close()
		rawModels = append(rawModels, one)
	}

	// 1. raw
	for i, n := range rawBatches {
		o.progress("%s: [1/6] raw ONNX Runtime, batch %d (%d/%d)", name, n, i+1, len(rawBatches))
		r, err := raw(ctx, im, n, sz.rawFor)
		if err != nil {
			return res, err
		}
		res.RawByBatch[n] = r
	}
	res.BatchInferenceMs = float64(batch.MaxBatchSize) * float64(im.Sessions()) / res.RawByBatch[batch.MaxBatchSize] * 1000

	e, err := newEnv(ctx, m, o.Partitions)
	if err != nil {
		return res, err
	}
	stopEnv := e.stop
	defer func() { stopEnv() }()
	n := sz.events[name]
	o.progress("%s: preloading %d events", name, n)
	if err := e.preload(ctx, m, n); err != nil {
		return res, err
	}
	res.Events = n
	maxInFlight := 8192

	// 2, 3 and 3b run in rounds of mirrored order (passthrough, pipeline,
	// drift on, drift on binning every event, then back) and each figure is
	// the median of its runs, so that a trend over the run (the broker's log
	// growing, the machine's other tenants) weighs on every figure alike and
	// one disturbed run does not decide a ratio. For the demo model, more
	// rounds of the pipeline and drift-on runs alone follow: single runs
	// vary by ±15% here, and the tap's cost is a few percent.
	var prof *drift.Profile
	if name == "demo" {
		if prof, err = driftProfile(m); err != nil {
			return res, err
		}
	}
	rounds := sz.rounds
	if name == "demo" {
		rounds += sz.driftPairs
	}
	var pass, pipe, drifted, driftedAll, raws []runRate
	for round := range rounds {
		full := round < sz.rounds // passthrough and every-event runs too
		passRun := func() error {
			if !full {
				return nil
			}
			o.progress("%s: [2/6] passthrough (consume → produce → commit, no decode, no inference), run %d of %d", name, round+1, sz.rounds)
			r, err := passthrough(ctx, e, n, maxInFlight)
			pass = append(pass, r)
			return err
		}
		pipeRun := func() error {
			o.progress("%s: [3/6] pipeline, max batch %d, run %d of %d", name, batch.MaxBatchSize, round+1, rounds)
			r, err := pipelineRate(ctx, e, im, batch, n, maxInFlight)
			pipe = append(pipe, r)
			if err != nil {
				return err
			}
			// ONNX Runtime alone right after, on the same machine state,
			// for the pipeline / raw ratio of this round: the faster of
			// the pipeline's sessions and one session of every thread.
			best := 0.0
			for _, rm := range rawModels {
				rr, err := raw(ctx, rm, batch.MaxBatchSize, sz.rawBeside)
				if err != nil {
					return err
				}
				best = max(best, rr)
			}
			raws = append(raws, runRate{perS: best})
			return nil
		}
		// The drift monitor only on the demo model: the heavy model's only
		// input is an array, which drift does not profile.
		driftRun := func() error {
			if name != "demo" {
				return nil
			}
			o.progress("%s: [3/6] pipeline with drift monitoring, run %d of %d", name, round+1, rounds)
			r, err := pipelineWithDrift(ctx, e, m, prof, im, batch, n, maxInFlight, o.DriftSampleEvery, o.DriftMaxRate)
			drifted = append(drifted, r)
			return err
		}
		driftAllRun := func() error {
			if name != "demo" || !full {
				return nil
			}
			o.progress("%s: [3/6] pipeline with drift monitoring of every event, run %d of %d", name, round+1, sz.rounds)
			r, err := pipelineWithDrift(ctx, e, m, prof, im, batch, n, maxInFlight, 1, -1)
			driftedAll = append(driftedAll, r)
			return err
		}
		order := []func() error{passRun, pipeRun, driftRun, driftAllRun}
		if round%2 == 1 {
			order = []func() error{driftAllRun, driftRun, pipeRun, passRun}
		}
		for _, run := range order {
			if err := e.reset(); err != nil {
				return res, err
			}
			if err := run(); err != nil {
				return res, err
			}
		}
	}
	res.Passthrough, res.PassthroughCPU, res.PassthroughRuns = medians(pass)
	res.Pipeline, res.PipelineCPU, res.PipelineRuns = medians(pipe)
	res.Raw, _, res.RawRuns = medians(raws)
	res.PipelineOverRaw = pairedRatio(pipe, raws)
	if name == "demo" {
		res.PipelineDrift, res.DriftCPU, res.DriftRuns = medians(drifted)
		res.PipelineDriftAll, res.DriftAllCPU, res.DriftAllRuns = medians(driftedAll)
		res.DriftOverNoDrift = pairedRatio(drifted, pipe)
		res.DriftAllOverNoDrift = pairedRatio(driftedAll, pipe[:len(driftedAll)])
	}

	// 4. the pipeline at batch 1, over a prefix of the same events
	o.progress("%s: [4/6] pipeline, batch 1", name)
	if err := e.reset(); err != nil {
		return res, err
	}
	b1, err := pipelineRate(ctx, e, im, inference.BatchConfig{MaxBatchSize: 1, MaxDelay: batch.MaxDelay}, sz.batch1[name], maxInFlight)
	if err != nil {
		return res, err
	}
	res.PipelineBatch1 = b1.perS

	// 5. open-loop latency at 10%, 50% and 80% of the pipeline's maximum
	// (10%: where the load generator and the broker leave the worker its
	// share of the cores, the pipeline's own latency), each on a fresh
	// broker and worker: the in-process broker keeps every record in this
	// process's heap, and the collector's growing work on earlier records
	// would show up as the pipeline's tail latency.
	freshEnv := func() error {
		stopEnv()
		stopEnv = func() {}
		runtime.GC() // the old broker's records
		if e, err = newEnv(ctx, m, o.Partitions); err != nil {
			return err
		}
		stopEnv = e.stop
		return nil
	}
	for _, frac := range []float64{0.1, 0.5, 0.8} {
		if err := freshEnv(); err != nil {
			return res, err
		}
		o.progress("%s: [5/6] latency at %.0f%% load (%.0f events/s)", name, frac*100, frac*res.Pipeline)
		p, err := latencyAt(ctx, e, m, im, batch, maxInFlight, frac*res.Pipeline, sz.loadFor)
		if err != nil {
			return res, err
		}
		switch frac {
		case 0.1:
			res.Latency10 = p
		case 0.5:
			res.Latency50, res.P99At50 = p, p.P99
		default:
			res.Latency80, res.P99At80 = p, p.P99
		}
	}

	// 6. throughput by workers and partitions, again on a fresh broker
	if err := freshEnv(); err != nil {
		return res, err
	}
	if res.Scale, err = scale(ctx, o, name, e, m, im, batch, n, maxInFlight); err != nil {
		return res, err
	}
	if name == "demo" { // routes: 1 and 4 routes in one process, side by side
		if err := freshEnv(); err != nil {
			return res, err
		}
		if res.Routes, err = routes(ctx, o, name, e, m, batch, n, maxInFlight, sz.routeRounds); err != nil {
			return res, err
		}
		if len(res.Routes) > 1 && res.Routes[0].EventsPerS > 0 {
			res.RoutesRatio = res.Routes[1].EventsPerS / res.Routes[0].EventsPerS
		}
	}
	res.P99TargetMs = 2*float64(batch.MaxDelay.Microseconds())/1000 + 3*res.BatchInferenceMs + 5
	res.PipelineOverPass = res.Pipeline / res.Passthrough
	res.BatchedOverBatch1 = res.Pipeline / res.PipelineBatch1
	return res, nil
}

// pipelineRate runs a fresh worker over the first n preloaded events and
// returns its events per second.
func pipelineRate(ctx context.Context, e *env, im *inference.Model, batch inference.BatchConfig, n, maxInFlight int) (runRate, error) {
	w, err := startWorker(ctx, e, im, batch, maxInFlight)
	if err != nil {
		return runRate{}, err
	}
	defer w.stop()
	return measure(ctx, e, n, w.done.Load)
}

// medians returns the median rate and the median CPU per event of runs,
// and the rates.
func medians(runs []runRate) (perS, cpuUS float64, rates []float64) {
	cpu := make([]float64, len(runs))
	rates = make([]float64, len(runs))
	for i, r := range runs {
		rates[i], cpu[i] = r.perS, r.cpuUS
	}
	return median(rates), median(cpu), rates
}

// pairedRatio is the median over rounds of a[i]/b[i]: the ratio of two
// configurations whose runs sit next to each other in every round, so that
// what changes on the machine over the minutes of a bench weighs on both
// sides of each ratio alike.
func pairedRatio(a, b []runRate) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i].perS / b[i].perS
	}
	return median(r)
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// latencyAt runs a fresh worker under an open-loop load of rate events per
// second for a warm-up second and then d, and returns the end-to-end
// latencies after the warm-up, with the cores this process kept busy
// meanwhile.
func latencyAt(ctx context.Context, e *env, m *model, im *inference.Model, batch inference.BatchConfig, maxInFlight int, rate float64, d time.Duration) (Percentiles, error) {
	w, err := startWorker(ctx, e, im, batch, maxInFlight)
	if err != nil {
		return Percentiles{}, err
	}
	defer w.stop()
	// Latencies count after a warm-up second, once the producer's and the
	// worker's connections and fetch sessions are in steady state.
	var cpu0 time.Duration
	var wall0 time.Time
	warmed := make(chan struct{})
	warm := time.AfterFunc(time.Second, func() {
		w.record(true)
		cpu0, wall0 = processCPU(), time.Now()
		close(warmed)
	})
	sent, err := openLoop(ctx, e, m, rate, time.Second+d)
	busy := 0.0
	if !warm.Stop() {
		<-warmed
		busy = (processCPU() - cpu0).Seconds() / time.Since(wall0).Seconds()
	}
	if err != nil {
		return Percentiles{}, err
	}
	for deadline := time.Now().Add(30 * time.Second); w.done.Load() < int64(sent) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	p := percentiles(w.record(false))
	p.CoresBusy = busy
	return p, nil
}
