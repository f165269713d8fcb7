package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// Options say what to run.
type Options struct {
	// Quick shortens every phase so the whole run takes under a minute.
	Quick bool
	// Models to run: "demo", "heavy" (default both).
	Models []string
	// Provider for ONNX Runtime sessions (default auto).
	Provider inference.Provider
	// Threads is the process's ONNX Runtime thread budget, as
	// inference.thread_budget (default GOMAXPROCS).
	Threads int
	// Sessions per model, as inference.sessions (0: the worker's default).
	Sessions int
	// Partitions of the input topic (default 4).
	Partitions int32
	// DriftSampleEvery is the drift monitor's drift.sample_every in the
	// drift-on run (default 1: every event).
	DriftSampleEvery int
	// DriftMaxRate is drift.max_rate in the drift-on run (0: its default).
	// A second drift-on run always bins every event (max_rate -1).
	DriftMaxRate int
	// Progress receives a one-line progress display (nil: none).
	Progress io.Writer
}

// Result is one model's figures; the JSON keys are the ones `--json` writes.
type Result struct {
	Model      string          `json:"model"`
	CPU        string          `json:"cpu"`
	Provider   string          `json:"provider"`
	Threads    int             `json:"threads"`  // intra-op threads per session (RunRoutes: the thread budget)
	Sessions   int             `json:"sessions"` // ONNX Runtime sessions of the model
	BatchSize  int             `json:"batch_size"`
	RawByBatch map[int]float64 `json:"raw_rows_per_s_by_batch"`
	// Raw is ONNX Runtime alone at the pipeline's batch size, measured
	// beside each pipeline run (the median of RawRuns): the faster of the
	// pipeline's sessions, each driven by its own caller, and one session
	// of the whole thread budget.
	Raw               float64     `json:"raw_rows_per_s"`
	RawRuns           []float64   `json:"raw_runs"`
	Passthrough       float64     `json:"passthrough_events_per_s"`
	Pipeline          float64     `json:"pipeline_events_per_s"`
	PipelineBatch1    float64     `json:"pipeline_batch1_events_per_s"`
	P99At50           float64     `json:"p99_ms_at_50pct"`
	P99At80           float64     `json:"p99_ms_at_80pct"`
	Latency10         Percentiles `json:"latency_at_10pct"`
	Latency50         Percentiles `json:"latency_at_50pct"`
	Latency80         Percentiles `json:"latency_at_80pct"`
	BatchInferenceMs  float64     `json:"batch_inference_ms"`
	P99TargetMs       float64     `json:"p99_target_ms"`
	Events            int         `json:"events"`
	PipelineOverRaw   float64     `json:"pipeline_over_raw"` // median over rounds of pipeline / raw beside it
	PipelineOverPass  float64     `json:"pipeline_over_passthrough"`
	BatchedOverBatch1 float64     `json:"pipeline_over_batch1"`
	PipelineDrift     float64     `json:"pipeline_drift_on_events_per_s,omitempty"`
	// DriftOverNoDrift is the median over rounds of the drift-on run's rate
	// over the pipeline run's beside it (DriftAllOverNoDrift likewise, over
	// the rounds with an every-event run).
	DriftOverNoDrift float64 `json:"drift_on_over_off,omitempty"`
	// CPU time per event of this process and its Redis in those runs
	// (medians, µs): what each costs, less noisy than the rates on a
	// shared machine.
	PassthroughCPU float64 `json:"passthrough_cpu_us_per_event"`
	PipelineCPU    float64 `json:"pipeline_cpu_us_per_event"`
	DriftCPU       float64 `json:"pipeline_drift_on_cpu_us_per_event,omitempty"`
	DriftAllCPU    float64 `json:"pipeline_drift_every_event_cpu_us_per_event,omitempty"`
	// The runs each of the figures above is the median of.
	PassthroughRuns []float64 `json:"passthrough_runs"`
	PipelineRuns    []float64 `json:"pipeline_runs"`
	DriftRuns       []float64 `json:"pipeline_drift_on_runs,omitempty"`
	DriftAllRuns    []float64 `json:"pipeline_drift_every_event_runs,omitempty"`
	// The same with the drift tap binning every event (max_rate -1).
	PipelineDriftAll    float64 `json:"pipeline_drift_every_event_events_per_s,omitempty"`
	DriftAllOverNoDrift float64 `json:"drift_every_event_over_off,omitempty"`
	// Scale is the pipeline's throughput by workers (in this process) and
	// partitions, each over the same number of events.
	Scale []ScaleRow `json:"scale"`
	// Routes is the total throughput of 1 and 4 routes in one process
	// (demo model only); RoutesRatio is 4 routes' over 1 route's, both on
	// the process's thread budget.
	Routes      []RoutesRow `json:"routes,omitempty"`
	RoutesRatio float64     `json:"routes_4_over_1,omitempty"`
}

// sizes of the runs.
type sizes struct {
	rawFor time.Duration
	// each raw run beside a pipeline run
	rawBeside time.Duration
	events    map[string]int
	batch1    map[string]int
	loadFor   time.Duration
	rounds    int // of the mirrored passthrough/pipeline/drift runs
	// more rounds of the pipeline and drift-on runs alone (demo model)
	driftPairs int
	// rounds of the routes rows (demo model)
	routeRounds int
}

// testSizes, when set (by this package's tests), replaces both.
var testSizes *sizes

func sizesFor(quick bool) sizes {
	if testSizes != nil {
		return *testSizes
	}
	if quick {
		return sizes{rawFor: 300 * time.Millisecond, rawBeside: 200 * time.Millisecond, loadFor: 2 * time.Second, rounds: 2, driftPairs: 4, routeRounds: 2,
			events: map[string]int{"demo": 40000, "heavy": 8000}, batch1: map[string]int{"demo": 8000, "heavy": 2000}}
	}
	return sizes{rawFor: 2 * time.Second, rawBeside: 500 * time.Millisecond, loadFor: 8 * time.Second, rounds: 8, driftPairs: 24, routeRounds: 4,
		events: map[string]int{"demo": 200000, "heavy": 40000}, batch1: map[string]int{"demo": 30000, "heavy": 6000}}
}

// Run runs every phase for each model, one after another, and returns the
// figures.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if len(o.Models) == 0 {
		o.Models = []string{"demo", "heavy"}
	}
	if o.Partitions == 0 {
		o.Partitions = 4
	}
	if o.DriftSampleEvery == 0 {
		o.DriftSampleEvery = 1
	}
	if o.Threads == 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if err := inference.Load(); err != nil {
		return nil, err
	}
	var out []Result
	for _, name := range o.Models {
		r, err := runModel(ctx, o, name)
		if err != nil {
			return out, fmt.Errorf("%s model: %w", name, err)
		}
		out = append(out, r)
	}
	o.progress("done\n")
	return out, nil
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "\r\033[K"+format, args...)
	}
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return fmt.Sprintf("%s (%d cores)", strings.TrimSpace(v), runtime.NumCPU())
			}
		}
	}
	return fmt.Sprintf("%s/%s (%d cores)", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
}
