package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteTable writes the results as a markdown table with the ratios the
// project tracks.
func WriteTable(w io.Writer, rs []Result) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "CPU: %s; ONNX Runtime provider: %s, %d session(s) × %d intra-op thread(s) per model; default max batch %d\n\n",
		rs[0].CPU, rs[0].Provider, rs[0].Sessions, rs[0].Threads, rs[0].BatchSize)
	head := []string{"figure"}
	for _, r := range rs {
		head = append(head, r.Model)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	row := func(name string, f func(Result) string) {
		cells := []string{name}
		for _, r := range rs {
			cells = append(cells, f(r))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, b := range rawBatches {
		row(fmt.Sprintf("raw ONNX Runtime, batch %d (rows/s)", b), func(r Result) string { return num(r.RawByBatch[b]) })
	}
	row("raw ONNX Runtime at max batch, beside each pipeline run (rows/s, median)", func(r Result) string { return num(r.Raw) })
	row("passthrough consume→produce→commit (events/s)", func(r Result) string { return num(r.Passthrough) })
	row("pipeline, default batching (events/s)", func(r Result) string { return num(r.Pipeline) })
	row("pipeline, batch 1 (events/s)", func(r Result) string { return num(r.PipelineBatch1) })
	row("pipeline, drift monitoring on (events/s)", func(r Result) string {
		if r.PipelineDrift == 0 {
			return "—"
		}
		return num(r.PipelineDrift)
	})
	row("pipeline, drift monitoring every event (events/s)", func(r Result) string {
		if r.PipelineDriftAll == 0 {
			return "—"
		}
		return num(r.PipelineDriftAll)
	})
	row("CPU per event: passthrough / pipeline (µs, process + Redis)", func(r Result) string {
		return fmt.Sprintf("%.2f / %.2f", r.PassthroughCPU, r.PipelineCPU)
	})
	row("CPU per event: drift on / every event (µs, process + Redis)", func(r Result) string {
		if r.DriftCPU == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f / %.2f", r.DriftCPU, r.DriftAllCPU)
	})
	row("pipeline / passthrough", func(r Result) string { return fmt.Sprintf("%.2f", r.PipelineOverPass) })
	row("pipeline / raw at the same batch size (median of paired runs)", func(r Result) string { return fmt.Sprintf("%.2f", r.PipelineOverRaw) })
	row("pipeline / pipeline at batch 1", func(r Result) string { return fmt.Sprintf("%.1f×", r.BatchedOverBatch1) })
	ratio := func(name string, f func(Result) float64) {
		row(name, func(r Result) string {
			if r.PipelineDrift == 0 {
				return "—"
			}
			return fmt.Sprintf("%.2f", f(r))
		})
	}
	ratio("drift on / drift off (median of paired runs)", func(r Result) float64 { return r.DriftOverNoDrift })
	ratio("drift on, every event / drift off", func(r Result) float64 { return r.DriftAllOverNoDrift })
	row("end-to-end p50 / p99 / p99.9 at 10% load (ms), cores busy", func(r Result) string { return pct(r.Latency10) })
	row("end-to-end p50 / p99 / p99.9 at 50% load (ms), cores busy", func(r Result) string { return pct(r.Latency50) })
	row("end-to-end p50 / p99 / p99.9 at 80% load (ms), cores busy", func(r Result) string { return pct(r.Latency80) })
	row("p99 target at 50%: 2×max_delay + 3×batch inference + 5 ms", func(r Result) string { return fmt.Sprintf("%.1f ms", r.P99TargetMs) })
	for i := range rs[0].Scale {
		s0 := rs[0].Scale[i]
		row(fmt.Sprintf("scale: %d worker(s), %d partition(s) (events/s)", s0.Workers, s0.Partitions), func(r Result) string {
			if i >= len(r.Scale) {
				return "—"
			}
			return num(r.Scale[i].EventsPerS)
		})
	}
	for i := range rs[0].Routes {
		r0 := rs[0].Routes[i]
		label := "on the thread budget"
		if !r0.Budgeted {
			label = "every session all threads"
		}
		row(fmt.Sprintf("routes: %d in one process, %s (%d × %d threads per model; total events/s)", r0.Routes, label, r0.Sessions, r0.Threads), func(r Result) string {
			if i >= len(r.Routes) {
				return "—"
			}
			return num(r.Routes[i].EventsPerS)
		})
	}
	if rs[0].RoutesRatio > 0 {
		row("routes: 4 routes / 1 route (target ≥ 0.80)", func(r Result) string {
			if r.RoutesRatio == 0 {
				return "—"
			}
			return fmt.Sprintf("%.2f", r.RoutesRatio)
		})
	}
}

func num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func pct(p Percentiles) string {
	return fmt.Sprintf("%.1f / %.1f / %.1f, %.2f", p.P50, p.P99, p.P999, p.CoresBusy)
}
