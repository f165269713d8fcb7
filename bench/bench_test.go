package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// TestRunBothModels runs every phase on both models with tiny sizes and
// checks that each figure was measured, that the ratios are the ratios of
// the figures, and that the table and the JSON carry them.
func TestRunBothModels(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Skipf("ONNX Runtime: %v (run scripts/fetch-onnxruntime.sh)", err)
	}
	testSizes = &sizes{rawFor: 50 * time.Millisecond, rawBeside: 20 * time.Millisecond, loadFor: 500 * time.Millisecond, rounds: 2, driftPairs: 2, routeRounds: 2,
		events: map[string]int{"demo": 3000, "heavy": 600}, batch1: map[string]int{"demo": 500, "heavy": 200}}
	defer func() { testSizes = nil }()
	var progress bytes.Buffer
	// A budget of two threads: two sessions of one thread each, as a
	// worker on two cores runs them.
	rs, err := Run(t.Context(), Options{Provider: inference.ProviderCPU, Threads: 2, Partitions: 2, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Model != "demo" || rs[1].Model != "heavy" {
		t.Fatalf("results for %d models", len(rs))
	}
	for _, r := range rs {
		figures := map[string]float64{
			"raw": r.Raw, "passthrough": r.Passthrough, "pipeline": r.Pipeline, "batch1": r.PipelineBatch1,
			"p99@50": r.P99At50, "p99@80": r.P99At80, "batch inference": r.BatchInferenceMs,
			"passthrough cpu/event": r.PassthroughCPU, "pipeline cpu/event": r.PipelineCPU,
		}
		for _, b := range rawBatches {
			figures["raw batch "+itoa(b)] = r.RawByBatch[b]
		}
		for name, v := range figures {
			if !(v > 0) {
				t.Errorf("%s: %s = %v, want > 0", r.Model, name, v)
			}
		}
		for _, l := range []Percentiles{r.Latency10, r.Latency50, r.Latency80} {
			if l.N == 0 || !(l.CoresBusy > 0) || !(l.P50 <= l.P99 && l.P99 <= l.P999) {
				t.Errorf("%s: latency %+v", r.Model, l)
			}
		}
		// demo: two mirrored rounds and two more of pipeline and drift on
		if runs := map[string]int{"demo": 4, "heavy": 2}[r.Model]; len(r.PipelineRuns) != runs || len(r.PassthroughRuns) != 2 || !near(r.Pipeline, median(r.PipelineRuns)) {
			t.Errorf("%s: pipeline %v is not the median of its runs %v (want %d), passthrough runs %v", r.Model, r.Pipeline, r.PipelineRuns, runs, r.PassthroughRuns)
		}
		if !near(r.PipelineOverPass, r.Pipeline/r.Passthrough) || !near(r.BatchedOverBatch1, r.Pipeline/r.PipelineBatch1) {
			t.Errorf("%s: ratios do not match the figures: %+v", r.Model, r)
		}
		// raw beside every pipeline run; the ratio is the median of the
		// rounds' ratios
		if len(r.RawRuns) != len(r.PipelineRuns) || !near(r.Raw, median(r.RawRuns)) || !near(r.PipelineOverRaw, paired(r.PipelineRuns, r.RawRuns)) {
			t.Errorf("%s: raw %v (runs %v) and pipeline / raw %v do not pair with the pipeline runs %v", r.Model, r.Raw, r.RawRuns, r.PipelineOverRaw, r.PipelineRuns)
		}
		if r.Sessions != 2 || r.Threads != 1 {
			t.Errorf("%s: %d sessions of %d threads on a budget of 2, want 2 of 1", r.Model, r.Sessions, r.Threads)
		}
		if len(r.Scale) != 3 {
			t.Fatalf("%s: %d scale rows", r.Model, len(r.Scale))
		}
		for _, s := range r.Scale {
			if !(s.EventsPerS > 0) {
				t.Errorf("%s: scale row %+v not measured", r.Model, s)
			}
		}
		if want := (ScaleRow{Workers: 2, Partitions: 2}); r.Scale[2].Workers != want.Workers || r.Scale[2].Partitions != want.Partitions {
			t.Errorf("%s: last scale row %+v, want 2 workers over 2 partitions", r.Model, r.Scale[2])
		}
	}
	if d := rs[0]; !(d.DriftCPU > 0) || !(d.DriftAllCPU > 0) || !(d.PipelineDrift > 0) || len(d.DriftRuns) != 4 || len(d.DriftAllRuns) != 2 ||
		!near(d.DriftOverNoDrift, paired(d.DriftRuns, d.PipelineRuns)) || !(d.PipelineDriftAll > 0) || !near(d.DriftAllOverNoDrift, paired(d.DriftAllRuns, d.PipelineRuns[:2])) {
		t.Errorf("demo drift on %v, ratio %v", d.PipelineDrift, d.DriftOverNoDrift)
	}
	// routes: 1 route, 4 on the budget, 4 each with every thread; two
	// mirrored rounds each, the ratio of the medians; 1 thread per session
	// on the budget of 2 (1 route: two sessions), 2 with every thread
	if d := rs[0]; len(d.Routes) != 3 || d.Routes[0].Routes != 1 || d.Routes[1].Routes != 4 || !d.Routes[1].Budgeted || d.Routes[2].Budgeted ||
		!near(d.RoutesRatio, d.Routes[1].EventsPerS/d.Routes[0].EventsPerS) {
		t.Errorf("demo routes rows %+v, ratio %v", d.Routes, d.RoutesRatio)
	} else {
		for i, r := range d.Routes {
			sessions, threads := []int{2, 1, 1}[i], []int{1, 1, 2}[i]
			if !(r.EventsPerS > 0) || len(r.Runs) != 2 || !near(r.EventsPerS, median(r.Runs)) || r.Sessions != sessions || r.Threads != threads {
				t.Errorf("routes row %+v not the median of two measured runs, at %d session(s) × %d thread(s)", r, sessions, threads)
			}
		}
	}
	if len(rs[1].Routes) != 0 {
		t.Errorf("heavy model measured routes: %+v", rs[1].Routes)
	}
	if rs[1].PipelineDrift != 0 {
		t.Errorf("heavy drift-on run measured (%v) though drift does not profile arrays", rs[1].PipelineDrift)
	}

	var table bytes.Buffer
	WriteTable(&table, rs)
	for _, want := range []string{"| figure | demo | heavy |", "2 session(s) × 1 intra-op thread(s) per model", "beside each pipeline run", "pipeline / passthrough", "CPU per event", "drift on / drift off", "scale: 2 worker(s), 2 partition(s)", "routes: 4 in one process, on the thread budget", "routes: 4 routes / 1 route"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	b, err := json.Marshal(rs[1])
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"raw_rows_per_s", "raw_runs", "sessions", "passthrough_events_per_s", "pipeline_events_per_s", "pipeline_batch1_events_per_s", "p99_ms_at_50pct", "p99_ms_at_80pct", "cpu", "provider", "batch_size", "scale"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if !strings.Contains(progress.String(), "scale") {
		t.Errorf("progress never named the scale phase: %q", progress.String())
	}
}

// paired is the median of a[i]/b[i].
func paired(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.NaN()
	}
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i] / b[i]
	}
	return median(r)
}

func near(a, b float64) bool { return a == b || (a-b)/b < 1e-9 && (b-a)/b < 1e-9 }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{4, 1, 3}, 3}, {[]float64{10, 1, 4, 2}, 3}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
