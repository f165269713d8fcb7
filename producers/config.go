package producers

import (
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/keyerr"
)

// WriterConfig configures a Writer. The zero value of each field means "use
// the default" (see SetDefaults). Brokers is required.
type WriterConfig struct {
	// Brokers are the bootstrap broker addresses (host:port).
	Brokers []string `yaml:"brokers"`
	// Topic is the topic every message goes to. Leave it empty to name the
	// topic on each message instead (kafka-go rejects a message that names a
	// topic when the writer has one).
	Topic string `yaml:"topic"`
	// BatchTimeout is how long a partition's partial batch waits for more
	// messages before it is sent (default 2ms; kafka-go's default is 1s). A
	// synchronous Write of fewer than BatchSize messages per partition waits
	// this long, so keep it small. The AsyncWriter (the pipeline's hot path)
	// has no timer: it batches by round trips (see AsyncWriter).
	BatchTimeout time.Duration `yaml:"batch_timeout"`
	// BatchSize is how many messages per partition make a full batch, sent
	// at once (default 1000).
	BatchSize int `yaml:"batch_size"`
	// BatchBytes is the most bytes per produce request and per message
	// (default 1 MiB, Kafka's default message.max.bytes).
	BatchBytes int64 `yaml:"batch_bytes"`
	// WriteTimeout bounds one produce request (default 10s). A batch is
	// tried up to 10 times.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// Compression is "none" (default), "snappy", "lz4", "zstd" or "gzip".
	Compression string `yaml:"compression"`
	// ClientID names this client to the brokers (default "sluice"); used
	// only when Transport is nil.
	ClientID string `yaml:"client_id"`
	// CloseTimeout bounds Close, which flushes what is buffered (default 10s).
	CloseTimeout time.Duration `yaml:"close_timeout"`

	// Transport carries the requests; set it to add TLS or SASL. Nil means
	// a plain-TCP transport owned (and closed) by the Writer.
	Transport *kafka.Transport `yaml:"-"`
}

// SetDefaults fills every zero field that has a default. It is not safe for
// concurrent use on the same config.
func (c *WriterConfig) SetDefaults() {
	if c.BatchTimeout == 0 {
		c.BatchTimeout = 2 * time.Millisecond
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = 1 << 20
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Compression == "" {
		c.Compression = "none"
	}
	if c.ClientID == "" {
		c.ClientID = "sluice"
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 10 * time.Second
	}
}

// Validate reports the first invalid field by its YAML name. Call it after
// SetDefaults. It is safe for concurrent use.
func (c *WriterConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return invalid("brokers", "at least one broker address is required")
	case c.BatchTimeout <= 0:
		return invalid("batch_timeout", "must be positive")
	case c.BatchSize < 1:
		return invalid("batch_size", "must be at least 1")
	case c.BatchBytes < 1:
		return invalid("batch_bytes", "must be at least 1")
	case c.WriteTimeout <= 0:
		return invalid("write_timeout", "must be positive")
	case c.CloseTimeout <= 0:
		return invalid("close_timeout", "must be positive")
	}
	for i, b := range c.Brokers {
		if b == "" {
			return invalid(fmt.Sprintf("brokers[%d]", i), "empty address")
		}
	}
	if _, err := compression(c.Compression); err != nil {
		return err
	}
	return nil
}

// ErrInvalidConfig is wrapped by every Validate error of this package.
var ErrInvalidConfig = errors.New("producers: invalid config")

// invalid is the error of a field, by its YAML key, that matches
// ErrInvalidConfig.
func invalid(field, why string) error {
	return keyerr.Wrap(ErrInvalidConfig, field, "%s", why)
}

func compression(name string) (kafka.Compression, error) {
	switch name {
	case "none":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, invalid("compression", fmt.Sprintf("%q is not none, snappy, lz4, zstd or gzip", name))
}
