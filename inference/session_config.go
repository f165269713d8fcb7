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
// value is valid: auto provider, one session, GOMAXPROCS intra-op threads.
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
	Sessions     int `yaml:"sessions"` // concurrent sessions; 0 = 1
	// Spin lets ONNX Runtime's pool threads busy-wait between runs (its own
	// default). Off by default: on a few shared cores it slows every other
	// stage of the worker.
	Spin bool `yaml:"spin"`

	// Logger receives the provider fallback line; nil is slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// DefaultSessionConfig is what an unset field of a SessionConfig means,
// as sluice.yaml's inference section prints it: the auto provider and one
// session (intra_op_threads 0 is GOMAXPROCS, decided when the sessions
// start).
func DefaultSessionConfig() SessionConfig {
	return SessionConfig{Provider: ProviderAuto, Sessions: 1}
}

// Budget returns c for one of models distinct models served by one
// process: with IntraOpThreads unset, each of the model's sessions gets
// ThreadBudget (or GOMAXPROCS) divided by models × sessions threads, at
// least one, so that the process's ONNX Runtime pools together do not
// run more threads than the budget (onnxruntime_go v1.27 has no global
// thread pool to share instead). One model with one session gets the
// whole budget, as before routes.
func (c SessionConfig) Budget(models int) SessionConfig {
	if c.IntraOpThreads != 0 {
		return c
	}
	budget := c.ThreadBudget
	if budget <= 0 {
		budget = runtime.GOMAXPROCS(0)
	}
	sessions := max(c.Sessions, 1)
	c.IntraOpThreads = max(1, budget/(max(models, 1)*sessions))
	return c
}

// withDefaults fills the zero fields.
func (c SessionConfig) withDefaults() SessionConfig {
	d := DefaultSessionConfig()
	if c.Provider == "" {
		c.Provider = d.Provider
	}
	if c.IntraOpThreads == 0 {
		c.IntraOpThreads = runtime.GOMAXPROCS(0)
	}
	if c.Sessions == 0 {
		c.Sessions = d.Sessions
	}
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
	l.Check(c.Sessions >= 0 && c.Sessions <= 64, "sessions", "must be in 1..64 (0: 1), got %d", c.Sessions)
	return l.Err()
}
