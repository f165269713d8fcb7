package registry

import (
	"time"

	"github.com/sluice-ml/sluice/internal/keyerr"
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

// Validate reports every field that cannot work, by its key under models
// (the section of sluice.yaml that holds it).
func (c Config) Validate() error {
	var l keyerr.List
	l.Check(c.MaxModelBytes >= 0, "models.max_model_bytes", "must not be negative, got %d", c.MaxModelBytes)
	l.Check(c.CheckInterval == 0 || c.CheckInterval >= 100*time.Millisecond, "models.check_interval",
		"must be at least 100ms (0: %s), got %s", DefaultCheckInterval, c.CheckInterval)
	return l.Err()
}
