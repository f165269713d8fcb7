package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// Config is one worker's pipeline configuration.
type Config struct {
	// InputTopic is where feature events are read from.
	InputTopic string `yaml:"input_topic"`
	// OutputTopic receives one Prediction per input event.
	OutputTopic string `yaml:"output_topic"`
	// DLQTopic receives the input events that cannot be read or scored.
	DLQTopic string `yaml:"dlq_topic"`
	// ShadowTopic receives a shadow version's predictions.
	ShadowTopic string `yaml:"shadow_topic"`
	// Group is the consumer group; workers in one group share partitions.
	Group string `yaml:"group"`
	// MaxInFlight caps events fetched but not yet committed (not yet
	// scored, or scored and waiting for the next commit); it bounds memory
	// and the events a crash redelivers, so the duplicates it can cause.
	MaxInFlight int `yaml:"max_in_flight"`
	// DecodeWorkers decode and map events in parallel; each partition is
	// always handled by the same worker so per-key order is kept.
	DecodeWorkers int `yaml:"decode_workers"`
	// CommitInterval is how often acknowledged offsets are committed.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// ShutdownGrace bounds how long a drain may take on shutdown.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// MaxRecordBytes is the largest input value accepted; larger ones are
	// dead-lettered with class too_large.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// Batch is the batcher's policy.
	Batch inference.BatchConfig `yaml:"batch"`
}

// DefaultConfig returns the defaults every unset field takes.
func DefaultConfig() Config {
	return Config{
		InputTopic:     "features",
		OutputTopic:    "predictions",
		DLQTopic:       "features.dlq",
		ShadowTopic:    "predictions.shadow",
		Group:          "sluice",
		MaxInFlight:    8192,
		DecodeWorkers:  2,
		CommitInterval: 500 * time.Millisecond,
		ShutdownGrace:  20 * time.Second,
		MaxRecordBytes: 1 << 20,
		Batch:          inference.BatchConfig{MaxBatchSize: 256, MaxDelay: 2 * time.Millisecond, Dispatch: inference.DispatchIdle},
	}
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.InputTopic == "" {
		c.InputTopic = d.InputTopic
	}
	if c.OutputTopic == "" {
		c.OutputTopic = d.OutputTopic
	}
	if c.DLQTopic == "" {
		c.DLQTopic = d.DLQTopic
	}
	if c.ShadowTopic == "" {
		c.ShadowTopic = d.ShadowTopic
	}
	if c.Group == "" {
		c.Group = d.Group
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = d.MaxInFlight
	}
	if c.DecodeWorkers == 0 {
		c.DecodeWorkers = d.DecodeWorkers
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = d.CommitInterval
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = d.ShutdownGrace
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = d.MaxRecordBytes
	}
	if c.Batch.MaxBatchSize == 0 {
		c.Batch.MaxBatchSize = d.Batch.MaxBatchSize
	}
	if c.Batch.MaxDelay == 0 {
		c.Batch.MaxDelay = d.Batch.MaxDelay
	}
	if c.Batch.Dispatch == "" {
		c.Batch.Dispatch = d.Batch.Dispatch
	}
	return c
}

// Validate reports the first field that is out of range, by its YAML name.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, field, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("pipeline.%s: "+format, append([]any{field}, args...)...))
		}
	}
	check(c.InputTopic != "", "input_topic", "must not be empty")
	check(c.OutputTopic != "", "output_topic", "must not be empty")
	check(c.DLQTopic != "", "dlq_topic", "must not be empty")
	check(c.InputTopic != c.OutputTopic, "output_topic", "must differ from input_topic %q", c.InputTopic)
	check(c.Group != "", "group", "must not be empty")
	check(c.MaxInFlight > 0, "max_in_flight", "must be positive, got %d", c.MaxInFlight)
	check(c.MaxInFlight >= c.Batch.MaxBatchSize, "max_in_flight", "must be at least batch.max_batch_size (%d), got %d", c.Batch.MaxBatchSize, c.MaxInFlight)
	check(c.DecodeWorkers > 0 && c.DecodeWorkers <= 64, "decode_workers", "must be in 1..64, got %d", c.DecodeWorkers)
	check(c.CommitInterval > 0, "commit_interval", "must be positive, got %s", c.CommitInterval)
	check(c.ShutdownGrace > 0, "shutdown_grace", "must be positive, got %s", c.ShutdownGrace)
	check(c.MaxRecordBytes > 0, "max_record_bytes", "must be positive, got %d", c.MaxRecordBytes)
	if err := c.Batch.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("pipeline.batch: %w", err))
	}
	return errors.Join(errs...)
}
