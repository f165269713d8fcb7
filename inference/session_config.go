package inference

import (
	"fmt"
	"log/slog"
	"runtime"
)

// Provider names an ONNX Runtime execution provider.
type Provider string

// Execution providers.
const (
	// ProviderAuto uses CUDA when the library and a device have it and falls
	// back to the CPU otherwise, saying so once in the log.
	ProviderAuto Provider = "auto"
	// ProviderCPU runs on the CPU.
	ProviderCPU Provider = "cpu"
	// ProviderCUDA runs on an NVIDIA GPU; without one, LoadModel fails.
	ProviderCUDA Provider = "cuda"
)

// SessionConfig says how a model's ONNX Runtime sessions run. The zero
// value is valid: auto provider, one session, GOMAXPROCS intra-op threads.
type SessionConfig struct {
	Provider         Provider `yaml:"provider"`            // auto (default) | cpu | cuda
	DeviceID         int      `yaml:"device_id"`           // CUDA device
	GPUMemLimitBytes uint64   `yaml:"gpu_mem_limit_bytes"` // CUDA arena limit; 0 = ONNX Runtime's default
	TensorRT         bool     `yaml:"tensorrt"`            // put TensorRT ahead of CUDA
	IntraOpThreads   int      `yaml:"intra_op_threads"`    // per session; 0 = GOMAXPROCS
	Sessions         int      `yaml:"sessions"`            // concurrent sessions; 0 = 1
	// Spin lets ONNX Runtime's pool threads busy-wait between runs (its own
	// default). Off by default: on a few shared cores it slows every other
	// stage of the worker.
	Spin bool `yaml:"spin"`

	// Logger receives the provider fallback line; nil is slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// withDefaults fills the zero fields.
func (c SessionConfig) withDefaults() SessionConfig {
	if c.Provider == "" {
		c.Provider = ProviderAuto
	}
	if c.IntraOpThreads == 0 {
		c.IntraOpThreads = runtime.GOMAXPROCS(0)
	}
	if c.Sessions == 0 {
		c.Sessions = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a field that cannot work.
func (c SessionConfig) Validate() error {
	switch c.Provider {
	case "", ProviderAuto, ProviderCPU, ProviderCUDA:
	default:
		return fmt.Errorf("inference: session config: provider: unknown %q (auto|cpu|cuda)", c.Provider)
	}
	switch {
	case c.DeviceID < 0:
		return fmt.Errorf("inference: session config: device_id: %d is negative", c.DeviceID)
	case c.IntraOpThreads < 0:
		return fmt.Errorf("inference: session config: intra_op_threads: %d is negative", c.IntraOpThreads)
	case c.Sessions < 0:
		return fmt.Errorf("inference: session config: sessions: %d is negative", c.Sessions)
	case c.Sessions > 64:
		return fmt.Errorf("inference: session config: sessions: %d is more than 64", c.Sessions)
	}
	return nil
}
