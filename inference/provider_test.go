package inference

import (
	"bytes"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The official ONNX Runtime build these tests run with has no CUDA
// provider, so auto must fall back to the CPU and cuda must fail. On a GPU
// build the tests check that CUDA was used instead.

func TestProviderAutoFallsBackToCPU(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	cfg := SessionConfig{Provider: ProviderAuto, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	model := loadTest(t, testGemm(), cfg, m)
	if model.Provider() == ProviderCUDA {
		if got := testutil.ToFloat64(m.provider.WithLabelValues("auto", "cuda")); got != 1 {
			t.Fatalf(`provider_info{requested="auto",effective="cuda"} = %v, want 1`, got)
		}
		t.Skip("this ONNX Runtime library has CUDA; the fallback path is not taken")
	}
	if model.Provider() != ProviderCPU {
		t.Fatalf("Provider() = %q, want cpu", model.Provider())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("fallback logged %d lines, want 1:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"level=WARN", "CUDA unavailable, running on CPU", "requested=auto", "effective=cpu", "libonnxruntime_providers"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q\nwant it to contain %q", lines[0], want)
		}
	}
	want := `
# HELP sluice_inference_provider_info 1 for the execution provider requested in config and the one the last loaded model runs on.
# TYPE sluice_inference_provider_info gauge
sluice_inference_provider_info{effective="cpu",requested="auto"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sluice_inference_provider_info"); err != nil {
		t.Fatal(err)
	}
	// The fallback model serves.
	out, err := model.Infer(t.Context(), make([]float32, 5), 1, nil)
	if err != nil || len(out) != 3 {
		t.Fatalf("Infer = %v, %v", out, err)
	}
}

func TestProviderCUDAExplicitFails(t *testing.T) {
	needRuntime(t)
	g := testGemm()
	cfg := SessionConfig{Provider: ProviderCUDA, DeviceID: 0, GPUMemLimitBytes: 1 << 30, IntraOpThreads: 1}
	model, err := LoadModel("m", "1", g.encode(), testSignature(g), cfg, nil)
	if err == nil {
		_ = model.Close()
		t.Skip("this ONNX Runtime library has CUDA")
	}
	if !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("err = %v, want ErrProviderUnavailable", err)
	}
	for _, want := range []string{"cuda (device 0)", "libonnxruntime_providers_shared.so", "ONNXRUNTIME_LIB", "provider: auto or cpu"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q\nwant it to contain %q", err, want)
		}
	}
}

func TestProviderCUDAWithTensorRTFails(t *testing.T) {
	needRuntime(t)
	g := testGemm()
	cfg := SessionConfig{Provider: ProviderCUDA, TensorRT: true, IntraOpThreads: 1}
	model, err := LoadModel("m", "1", g.encode(), testSignature(g), cfg, nil)
	if err == nil {
		_ = model.Close()
		t.Skip("this ONNX Runtime library has TensorRT")
	}
	if !errors.Is(err, ErrProviderUnavailable) || !strings.Contains(err.Error(), "tensorrt") {
		t.Fatalf("err = %v, want ErrProviderUnavailable naming tensorrt", err)
	}
}

func TestProviderCPU(t *testing.T) {
	m := NewMetrics(nil)
	model := loadTest(t, testGemm(), SessionConfig{Provider: ProviderCPU}, m)
	if model.Provider() != ProviderCPU {
		t.Fatalf("Provider() = %q", model.Provider())
	}
	if got := testutil.ToFloat64(m.provider.WithLabelValues("cpu", "cpu")); got != 1 {
		t.Fatalf(`provider_info{requested="cpu",effective="cpu"} = %v, want 1`, got)
	}
}

func TestSessionConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  SessionConfig
		want string
	}{
		{SessionConfig{}, ""},
		{SessionConfig{Provider: ProviderCUDA, DeviceID: 1, Sessions: 4, IntraOpThreads: 2}, ""},
		{SessionConfig{Provider: "gpu"}, `provider: "gpu" is not one of auto, cpu, cuda`},
		{SessionConfig{DeviceID: -1}, "device_id: must not be negative, got -1"},
		{SessionConfig{IntraOpThreads: -2}, "intra_op_threads: must not be negative, got -2"},
		{SessionConfig{Sessions: -1}, "sessions: must be in 1..64 (0: auto), got -1"},
		{SessionConfig{Sessions: 65}, "sessions: must be in 1..64 (0: auto), got 65"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	d := SessionConfig{}.withDefaults()
	wantSessions := min(2, runtime.GOMAXPROCS(0))
	if d.Provider != ProviderAuto || d.Sessions != wantSessions || d.IntraOpThreads != max(1, runtime.GOMAXPROCS(0)/wantSessions) || d.Logger == nil {
		t.Errorf("defaults = %+v, want %d sessions sharing GOMAXPROCS", d, wantSessions)
	}
}
