package registry

import (
	"fmt"
	"time"
)

// DefaultMaxModelBytes is the default size cap of one model: 256 MiB.
const DefaultMaxModelBytes = 256 << 20

// DefaultCheckInterval is how often a Watcher checks the registry when no
// pub/sub message came.
const DefaultCheckInterval = 10 * time.Second

// Config configures the registry client and the Watcher (the models:
// section of sluice.yaml). The zero value takes the defaults.
type Config struct {
	// MaxModelBytes caps the ONNX blob of one version, at register and at
	// fetch time. 0 is DefaultMaxModelBytes.
	MaxModelBytes int64 `yaml:"max_model_bytes"`
	// CheckInterval is the Watcher's fallback poll. 0 is
	// DefaultCheckInterval.
	CheckInterval time.Duration `yaml:"check_interval"`
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.MaxModelBytes == 0 {
		c.MaxModelBytes = DefaultMaxModelBytes
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	return c
}

// Validate reports a field that cannot work, naming its key.
func (c Config) Validate() error {
	switch {
	case c.MaxModelBytes < 0:
		return fmt.Errorf("registry: max_model_bytes: %d is negative", c.MaxModelBytes)
	case c.CheckInterval < 0:
		return fmt.Errorf("registry: check_interval: %s is negative", c.CheckInterval)
	case c.CheckInterval > 0 && c.CheckInterval < 100*time.Millisecond:
		return fmt.Errorf("registry: check_interval: %s is under 100ms", c.CheckInterval)
	}
	return nil
}
