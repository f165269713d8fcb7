package inference

import (
	"time"

	"github.com/sluice-ml/sluice/internal/keyerr"
)

// Batch defaults.
const (
	DefaultMaxBatchSize = 256
	DefaultMaxDelay     = 2 * time.Millisecond
)

// Dispatch modes of a Batcher.
const (
	// DispatchIdle sends a partial batch as soon as no more items are
	// queued and the next stage is waiting for one; while the next stage is
	// busy, items gather until the batch is full or MaxDelay has passed.
	// Batches grow with the load, and an event arriving at an idle
	// worker is not held back by MaxDelay.
	DispatchIdle = "idle"
	// DispatchDelay sends a batch only when it is full or MaxDelay after its
	// first item came in (the dynamic batching of Triton and TF Serving).
	DispatchDelay = "delay"
)

// BatchConfig says when a batch is sent: when it holds MaxBatchSize items,
// MaxDelay after its first item came in, or (Dispatch idle) as soon as
// the next stage waits for one and no more items are queued, whichever is
// first.
type BatchConfig struct {
	MaxBatchSize int           `yaml:"max_batch_size"` // default 256
	MaxDelay     time.Duration `yaml:"max_delay"`      // default 2ms
	Dispatch     string        `yaml:"dispatch"`       // idle (default) or delay
}

// WithDefaults returns c with zero fields set to their defaults.
func (c BatchConfig) WithDefaults() BatchConfig {
	if c.MaxBatchSize == 0 {
		c.MaxBatchSize = DefaultMaxBatchSize
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.Dispatch == "" {
		c.Dispatch = DispatchIdle
	}
	return c
}

// Validate reports every field that cannot work, by its YAML key (zero
// fields mean defaults); whoever embeds the config puts its own key in
// front (pipeline.batch).
func (c BatchConfig) Validate() error {
	var l keyerr.List
	l.Check(c.MaxBatchSize >= 0 && c.MaxBatchSize <= 1<<16, "max_batch_size", "must be in 0..%d (0: %d), got %d", 1<<16, DefaultMaxBatchSize, c.MaxBatchSize)
	l.Check(c.MaxDelay >= 0, "max_delay", "must not be negative, got %s", c.MaxDelay)
	l.Check(c.Dispatch == "" || c.Dispatch == DispatchIdle || c.Dispatch == DispatchDelay, "dispatch", "%q is not %s or %s", c.Dispatch, DispatchIdle, DispatchDelay)
	return l.Err()
}
