package pipeline

import (
	"time"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/keyerr"
)

// Config is one worker's pipeline configuration.
type Config struct {
	// InputTopic is where feature events are read from.
	InputTopic string `yaml:"input_topic"`
	// OutputTopic receives one Prediction per input event.
	OutputTopic string `yaml:"output_topic"`
	// DLQTopic receives the input events that cannot be read or scored
	// (default: the input topic's name followed by ".dlq").
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
	// WriteRetries is how often an output (prediction or dead letter) the
	// writer gave up on is written again before its input partition is
	// reported stuck: paused, not ready, sluice_partition_stuck set. It is
	// still retried after that, with backoff, until it is written.
	WriteRetries int `yaml:"write_retries"`
	// Batch is the batcher's policy.
	Batch inference.BatchConfig `yaml:"batch"`
	// Readiness says how long the worker may go without progress before
	// /readyz reports it not ready.
	Readiness Readiness `yaml:"readiness"`
	// Fields names the input record's fields that identify each event.
	Fields Fields `yaml:"fields"`
}

// Readiness bounds the conditions that make a worker not ready only once
// they have lasted a while.
type Readiness struct {
	// BrokerTimeout: no broker has answered the worker's reader for this
	// long (every fetch, metadata read and commit counts).
	BrokerTimeout time.Duration `yaml:"broker_timeout"`
	// StallTimeout: events are in flight and no commit has passed any of
	// them for this long.
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// Fields names the input record's fields that identify each event in its
// prediction; NoField ("-") reads none. A record without the event id field
// is named topic/partition/offset; without the entity id field it takes
// the message key; without the event time field, the message timestamp.
type Fields struct {
	// EventID is a string, integer or bytes (read in hex) field; default
	// event_id.
	EventID string `yaml:"event_id"`
	// EntityID is a field of the same types; default entity_id.
	EntityID string `yaml:"entity_id"`
	// EventTime is a timestamp-millis or -micros, a long of epoch
	// milliseconds or an RFC 3339 string; default event_time.
	EventTime string `yaml:"event_time"`
}

// NoField, as a name in Fields, reads no field (its fallback is used).
const NoField = "-"

// DefaultConfig returns the defaults every unset field takes.
func DefaultConfig() Config {
	return Config{
		InputTopic:     "features",
		OutputTopic:    "predictions",
		ShadowTopic:    "predictions.shadow",
		Group:          "sluice",
		MaxInFlight:    8192,
		DecodeWorkers:  2,
		CommitInterval: 500 * time.Millisecond,
		ShutdownGrace:  20 * time.Second,
		MaxRecordBytes: 1 << 20,
		WriteRetries:   3,
		Batch:          inference.BatchConfig{}.WithDefaults(),
		Readiness:      Readiness{BrokerTimeout: 30 * time.Second, StallTimeout: 60 * time.Second},
		Fields:         Fields{EventID: "event_id", EntityID: "entity_id", EventTime: "event_time"},
	}
}

// DLQSuffix makes the default dead-letter topic from the input topic.
const DLQSuffix = ".dlq"

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
		c.DLQTopic = c.InputTopic + DLQSuffix
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
	if c.WriteRetries == 0 {
		c.WriteRetries = d.WriteRetries
	}
	if c.Readiness.BrokerTimeout == 0 {
		c.Readiness.BrokerTimeout = d.Readiness.BrokerTimeout
	}
	if c.Readiness.StallTimeout == 0 {
		c.Readiness.StallTimeout = d.Readiness.StallTimeout
	}
	c.Batch = c.Batch.WithDefaults()
	if c.Fields.EventID == "" {
		c.Fields.EventID = d.Fields.EventID
	}
	if c.Fields.EntityID == "" {
		c.Fields.EntityID = d.Fields.EntityID
	}
	if c.Fields.EventTime == "" {
		c.Fields.EventTime = d.Fields.EventTime
	}
	return c
}

// Validate reports every field that is out of range, by its YAML key
// under pipeline (pipeline.max_in_flight, pipeline.batch.max_delay). Call
// it on a config WithDefaults filled.
func (c Config) Validate() error {
	var l keyerr.List
	check := func(ok bool, key, format string, args ...any) { l.Check(ok, "pipeline."+key, format, args...) }
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
	check(c.DLQTopic != c.InputTopic && c.DLQTopic != c.OutputTopic, "dlq_topic", "must differ from input_topic and output_topic, got %q", c.DLQTopic)
	check(c.WriteRetries > 0, "write_retries", "must be positive, got %d", c.WriteRetries)
	check(c.Readiness.BrokerTimeout > 0, "readiness.broker_timeout", "must be positive, got %s", c.Readiness.BrokerTimeout)
	check(c.Readiness.StallTimeout >= c.CommitInterval, "readiness.stall_timeout", "must be at least commit_interval (%s), got %s", c.CommitInterval, c.Readiness.StallTimeout)
	l.Add("pipeline.batch", c.Batch.Validate())
	for _, f := range []struct{ key, name string }{
		{"event_id", c.Fields.EventID}, {"entity_id", c.Fields.EntityID}, {"event_time", c.Fields.EventTime},
	} {
		check(f.name == "" || f.name == NoField || avroName(f.name), "fields."+f.key,
			"%q is not an Avro field name (letters, digits and _, not starting with a digit), nor - for none", f.name)
	}
	return l.Err()
}

// avroName reports whether s is a valid Avro field name.
func avroName(s string) bool {
	for i, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}
