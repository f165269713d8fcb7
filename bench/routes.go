package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// RoutesRow is the pipeline's total throughput with Routes routes in this
// one process, as `sluice run` serves a config's routes: each route its
// own topic, consumer group and worker, and its own model (the demo model
// loaded under a name of its own, so with ONNX Runtime sessions of its
// own); the routes' topics together hold the same number of events.
type RoutesRow struct {
	Routes int `json:"routes"`
	// Budgeted rows share the process's thread budget (inference.thread_budget,
	// here the bench's intra-op threads) across the models' sessions, as
	// sluice run does; the other row gives every session the whole budget,
	// as separate processes per model would.
	Budgeted bool `json:"thread_budget"`
	// Sessions is each model's sessions, Threads each session's intra-op
	// threads.
	Sessions   int       `json:"sessions_per_model"`
	Threads    int       `json:"intra_op_threads_per_session"`
	EventsPerS float64   `json:"events_per_s"`
	CPUUS      float64   `json:"cpu_us_per_event"`
	Runs       []float64 `json:"runs"`
}

// routeCounts are the rows measured: 1 route, 4 routes on the budget, 4
// routes each with the whole budget.
var routeRows = []RoutesRow{{Routes: 1, Budgeted: true}, {Routes: 4, Budgeted: true}, {Routes: 4}}

// routes measures routeRows over n events, in rounds of mirrored order,
// each row's figure the median of its runs.
func routes(ctx context.Context, o Options, name string, e *env, m *model, batch inference.BatchConfig, n, maxInFlight, rounds int) ([]RoutesRow, error) {
	topics := map[int][]string{}
	for _, r := range routeRows {
		if topics[r.Routes] != nil {
			continue
		}
		for i := range r.Routes {
			t := fmt.Sprintf("routes-%d-%d", r.Routes, i)
			o.progress("%s: [routes] preloading %s", name, t)
			if err := e.broker.CreateTopic(t, e.partitions, nil); err != nil {
				return nil, err
			}
			if err := e.preloadTopic(ctx, m, t, n/r.Routes); err != nil {
				return nil, err
			}
			topics[r.Routes] = append(topics[r.Routes], t)
		}
	}
	rows := append([]RoutesRow(nil), routeRows...)
	runs := make([][]runRate, len(rows))
	for round := range rounds {
		order := []int{0, 1, 2}
		if round%2 == 1 {
			order = []int{2, 1, 0}
		}
		for _, i := range order {
			r := &rows[i]
			sc := inference.SessionConfig{Provider: o.Provider, IntraOpThreads: o.Threads}.Budget(1)
			if r.Budgeted {
				sc = inference.SessionConfig{Provider: o.Provider, ThreadBudget: o.Threads}.Budget(r.Routes)
			}
			r.Sessions, r.Threads = sc.Sessions, sc.IntraOpThreads
			o.progress("%s: [routes] %d route(s), %d session(s) × %d thread(s) per model, run %d of %d", name, r.Routes, r.Sessions, r.Threads, round+1, rounds)
			if err := e.reset(); err != nil {
				return rows, err
			}
			rate, err := routesRun(ctx, e, m, topics[r.Routes], sc, batch, n/r.Routes*r.Routes, maxInFlight)
			if err != nil {
				return rows, fmt.Errorf("%d routes: %w", r.Routes, err)
			}
			runs[i] = append(runs[i], rate)
		}
	}
	for i := range rows {
		rows[i].EventsPerS, rows[i].CPUUS, rows[i].Runs = medians(runs[i])
	}
	return rows, nil
}

// routesRun runs one worker per topic, each on a model of its own, and
// returns their total rate over n events, timed from the moment they all
// start fetching: the broker holds fetches until every route has joined
// its group, so that the routes start together.
func routesRun(ctx context.Context, e *env, m *model, topics []string, sc inference.SessionConfig, batch inference.BatchConfig, n, maxInFlight int) (runRate, error) {
	h := holdWorkers(e)
	var models []*inference.Model
	defer func() {
		h.stop() // the workers first, then their models
		for _, im := range models {
			_ = im.Close()
		}
	}()
	for i, topic := range topics {
		im, err := inference.LoadModel(fmt.Sprintf("%s-route-%d", m.name, i), "1", m.onnx, m.sig, sc, nil)
		if err != nil {
			return runRate{}, err
		}
		models = append(models, im)
		group := fmt.Sprintf("%s-%d", topic, time.Now().UnixNano())
		w, err := startWorkerOn(ctx, e, topic, group, im, batch, maxInFlight)
		if err != nil {
			return runRate{}, err
		}
		h.add(w)
		if err := waitStable(ctx, e, group, 1); err != nil {
			return runRate{}, err
		}
	}
	return h.run(ctx, n)
}

// RunRoutes runs only the routes rows, on the demo model, with the sizes
// of a full (or Quick) run: `sluice bench --routes-only`.
func RunRoutes(ctx context.Context, o Options) (Result, error) {
	if o.Partitions == 0 {
		o.Partitions = 4
	}
	if o.Threads == 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if err := inference.Load(); err != nil {
		return Result{}, err
	}
	sz := sizesFor(o.Quick)
	m, err := demoModel()
	if err != nil {
		return Result{}, err
	}
	batch := inference.BatchConfig{}.WithDefaults()
	res := Result{Model: "demo", CPU: cpuName(), Provider: string(o.Provider), Threads: o.Threads, BatchSize: batch.MaxBatchSize, Events: sz.events["demo"]}
	e, err := newEnv(ctx, m, o.Partitions)
	if err != nil {
		return res, err
	}
	defer e.stop()
	if res.Routes, err = routes(ctx, o, "demo", e, m, batch, res.Events, 8192, sz.routeRounds); err != nil {
		return res, err
	}
	if res.Routes[0].EventsPerS > 0 {
		res.RoutesRatio = res.Routes[1].EventsPerS / res.Routes[0].EventsPerS
	}
	o.progress("done\n")
	return res, nil
}

// WriteRoutesTable writes RunRoutes' rows as a markdown table.
func WriteRoutesTable(w io.Writer, r Result) {
	fmt.Fprintf(w, "CPU: %s; ONNX Runtime thread budget %d; demo model, %d events per run, median of %d runs\n\n", r.CPU, r.Threads, r.Events, len(r.Routes[0].Runs))
	fmt.Fprintf(w, "| routes in one process | sessions × intra-op threads per model | total events/s | CPU µs per event | runs |\n| --- | --- | --- | --- | --- |\n")
	for _, row := range r.Routes {
		label := fmt.Sprintf("%d, on the thread budget", row.Routes)
		if !row.Budgeted {
			label = fmt.Sprintf("%d, every session all threads", row.Routes)
		}
		runs := make([]string, len(row.Runs))
		for i, v := range row.Runs {
			runs[i] = num(v)
		}
		fmt.Fprintf(w, "| %s | %d × %d | %s | %.2f | %s |\n", label, row.Sessions, row.Threads, num(row.EventsPerS), row.CPUUS, strings.Join(runs, ", "))
	}
	fmt.Fprintf(w, "\n4 routes / 1 route: %.2f (target ≥ 0.80)\n", r.RoutesRatio)
}
