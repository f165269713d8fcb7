package inference

import (
	"fmt"
	"time"
)

// Batch defaults.
const (
	DefaultMaxBatchSize = 256
	DefaultMaxDelay     = 2 * time.Millisecond
)

// BatchConfig says when a batch is sent: when it holds MaxBatchSize items,
// or MaxDelay after its first item came in, whichever is first.
type BatchConfig struct {
	MaxBatchSize int           `yaml:"max_batch_size"` // default 256
	MaxDelay     time.Duration `yaml:"max_delay"`      // default 2ms
}

// WithDefaults returns c with zero fields set to their defaults.
func (c BatchConfig) WithDefaults() BatchConfig {
	if c.MaxBatchSize == 0 {
		c.MaxBatchSize = DefaultMaxBatchSize
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	return c
}

// Validate reports a field that cannot work; zero fields mean defaults.
func (c BatchConfig) Validate() error {
	switch {
	case c.MaxBatchSize < 0:
		return fmt.Errorf("inference: batch config: max_batch_size: %d is negative", c.MaxBatchSize)
	case c.MaxBatchSize > 1<<16:
		return fmt.Errorf("inference: batch config: max_batch_size: %d is more than %d", c.MaxBatchSize, 1<<16)
	case c.MaxDelay < 0:
		return fmt.Errorf("inference: batch config: max_delay: %s is negative", c.MaxDelay)
	}
	return nil
}
