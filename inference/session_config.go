package inference

import (
	"log/slog"
	"runtime"

	"github.com/sluice-ml/sluice/internal/keyerr"
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
// value is valid: auto provider, and GOMAXPROCS intra-op threads split
// over two sessions (one with a single core).
type SessionConfig struct {
	Provider         Provider `yaml:"provider"`            // auto (default) | cpu | cuda
	DeviceID         int      `yaml:"device_id"`           // CUDA device
	GPUMemLimitBytes uint64   `yaml:"gpu_mem_limit_bytes"` // CUDA arena limit; 0 = ONNX Runtime's default
	TensorRT         bool     `yaml:"tensorrt"`            // put TensorRT ahead of CUDA
	IntraOpThreads   int      `yaml:"intra_op_threads"`    // per session; 0 = a share of thread_budget
	// ThreadBudget is the intra-op threads of the whole process (0:
	// GOMAXPROCS). A worker serving several models gives each session of
	// each model an equal share of it (Budget), at least one, unless
	// IntraOpThreads sets the threads of every session.
	ThreadBudget int `yaml:"thread_budget"`
	// Sessions is how many runs the model takes at once; the stream
	// worker scores that many batches at once. 0 is two where the model's
	// share of the budget is at least two threads and the provider is not
	// cuda (one batch runs while the worker fills and emits the next),
	// one otherwise; with IntraOpThreads set, 0 is one.
	Sessions int `yaml:"sessions"`
	// Spin lets ONNX Runtime's pool threads busy-wait between runs (its own
	// default). Off by default: on a few shared cores it slows every other
	// stage of the worker.
	Spin bool `yaml:"spin"`

	// Logger receives the provider fallback line; nil is slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// DefaultSessionConfig is what an unset field of a SessionConfig means,
// as sluice.yaml's inference section prints it: the auto provider (sessions
// 0 and intra_op_threads 0 are decided when the sessions start, by Budget).
func DefaultSessionConfig() SessionConfig {
	return SessionConfig{Provider: ProviderAuto}
}

// Budget returns c for one of models distinct models served by one
// process, with Sessions and IntraOpThreads decided. The model's share of
// ThreadBudget (or GOMAXPROCS) is the budget divided by models, at least
// one thread; unset, Sessions is two where that share is two threads or
// more (and the provider is not cuda), and IntraOpThreads is the share
// divided by the sessions, at least one, so that the process's ONNX Runtime
// pools together do not run more threads than the budget (onnxruntime_go
// v1.27 has no global thread pool to share instead). IntraOpThreads set
// keeps every session at that many threads, and Sessions unset is then one.
func (c SessionConfig) Budget(models int) SessionConfig {
	budget := c.ThreadBudget
	if budget <= 0 {
		budget = runtime.GOMAXPROCS(0)
	}
	share := max(1, budget/max(models, 1))
	if c.Sessions == 0 {
		c.Sessions = 1
		if c.IntraOpThreads == 0 && share >= 2 && c.Provider != ProviderCUDA {
			c.Sessions = 2
		}
	}
	if c.IntraOpThreads == 0 {
		c.IntraOpThreads = max(1, share/c.Sessions)
	}
	return c
}

// withDefaults fills the zero fields, as for a process serving one model.
func (c SessionConfig) withDefaults() SessionConfig {
	if c.Provider == "" {
		c.Provider = DefaultSessionConfig().Provider
	}
	c = c.Budget(1)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports every field that cannot work, by its YAML key; sluice.yaml
// puts the section in front (inference.sessions).
func (c SessionConfig) Validate() error {
	var l keyerr.List
	switch c.Provider {
	case "", ProviderAuto, ProviderCPU, ProviderCUDA:
	default:
		l.Check(false, "provider", "%q is not one of auto, cpu, cuda", c.Provider)
	}
	l.Check(c.DeviceID >= 0, "device_id", "must not be negative, got %d", c.DeviceID)
	l.Check(c.IntraOpThreads >= 0, "intra_op_threads", "must not be negative, got %d", c.IntraOpThreads)
	l.Check(c.ThreadBudget >= 0, "thread_budget", "must not be negative, got %d", c.ThreadBudget)
	l.Check(c.Sessions >= 0 && c.Sessions <= 64, "sessions", "must be in 1..64 (0: auto), got %d", c.Sessions)
	return l.Err()
}
