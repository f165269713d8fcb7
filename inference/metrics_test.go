package inference

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsAfterInfer(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	model := loadTest(t, testGemm(), SessionConfig{Provider: ProviderCPU}, m)
	for _, n := range []int{3, 200} {
		if _, err := model.Infer(t.Context(), make([]float32, n*5), n, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := model.Infer(t.Context(), make([]float32, 4), 1, nil); err == nil {
		t.Fatal("Infer with a short row succeeded")
	}

	want := `
# HELP sluice_batch_size Rows per inference batch.
# TYPE sluice_batch_size histogram
sluice_batch_size_bucket{le="1"} 0
sluice_batch_size_bucket{le="2"} 0
sluice_batch_size_bucket{le="4"} 1
sluice_batch_size_bucket{le="8"} 1
sluice_batch_size_bucket{le="16"} 1
sluice_batch_size_bucket{le="32"} 1
sluice_batch_size_bucket{le="64"} 1
sluice_batch_size_bucket{le="128"} 1
sluice_batch_size_bucket{le="256"} 2
sluice_batch_size_bucket{le="512"} 2
sluice_batch_size_bucket{le="1024"} 2
sluice_batch_size_bucket{le="2048"} 2
sluice_batch_size_bucket{le="4096"} 2
sluice_batch_size_bucket{le="+Inf"} 2
sluice_batch_size_sum 203
sluice_batch_size_count 2
# HELP sluice_inference_errors_total Inference batches that failed (bad arguments or an ONNX Runtime error).
# TYPE sluice_inference_errors_total counter
sluice_inference_errors_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sluice_batch_size", "sluice_inference_errors_total"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	for _, mf := range mfs {
		if mf.GetName() == "sluice_inference_seconds" {
			count = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if count != 2 {
		t.Fatalf("sluice_inference_seconds count = %d, want 2 (warm-up not counted)", count)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.observeBatch(1, 0.1)
	m.inferError()
	m.setProvider(ProviderAuto, ProviderCPU)
}
