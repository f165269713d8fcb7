package consumers

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/keyerr"
)

// Start positions for a group that has no committed offset on a partition.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// ReaderConfig configures a group Reader. The zero value of each field
// means "use the default" (see SetDefaults). Brokers, Topic and GroupID are
// required.
type ReaderConfig struct {
	// Brokers are the bootstrap broker addresses (host:port).
	Brokers []string `yaml:"brokers"`
	// Topic is the topic to consume.
	Topic string `yaml:"topic"`
	// GroupID is the consumer group; offsets are committed under it.
	GroupID string `yaml:"group_id"`
	// MinBytes is the least data a fetch waits for (default 1 byte: lowest latency).
	MinBytes int `yaml:"min_bytes"`
	// MaxBytes is the most data one fetch returns per partition (default 4 MiB).
	MaxBytes int `yaml:"max_bytes"`
	// MaxWait is how long a fetch waits for MinBytes (default 250ms).
	MaxWait time.Duration `yaml:"max_wait"`
	// QueueCapacity is how many fetch responses (each a run of one
	// partition's messages, at most MaxBytes) wait ahead of Fetch (default 4).
	QueueCapacity int `yaml:"queue_capacity"`
	// SessionTimeout is how long the coordinator waits for a heartbeat before
	// it evicts the member (default 30s; brokers enforce a minimum, 6s on
	// Apache Kafka).
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// HeartbeatInterval is how often the member heartbeats; it is also how
	// quickly a member notices a rebalance (default 3s, under SessionTimeout).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// RebalanceTimeout is how long the coordinator waits for members to
	// rejoin during a rebalance (default 30s).
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
	// JoinGroupBackoff is the wait before joining the group again after a
	// failed join, e.g. while a broker restarts (default 1s; kafka-go's own
	// default is 5s).
	JoinGroupBackoff time.Duration `yaml:"join_group_backoff"`
	// StartOffset is where the group starts on a partition with no committed
	// offset: "earliest" (default, so events produced before the first
	// worker started are scored) or "latest".
	StartOffset string `yaml:"start_offset"`
	// ClientID names this client to the brokers (default "sluice"); used
	// only when Dialer is nil.
	ClientID string `yaml:"client_id"`
	// CloseTimeout bounds Close: leaving the group and stopping the fetchers
	// (default 10s).
	CloseTimeout time.Duration `yaml:"close_timeout"`
	// DrainTimeout bounds how long, when the group rebalances, a reader with
	// a Tracker waits for the messages it handed out to be acknowledged, so
	// that it commits them in the generation that fetched them before it
	// rejoins (default a third of SessionTimeout, at most 10s).
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// TopicCheckInterval is how often the reader reads the cluster's
	// metadata: whether Topic and WatchTopics exist, Topic's partition count
	// (a change makes the member rejoin) and the end offsets that consumer
	// lag is measured against (default 2s).
	TopicCheckInterval time.Duration `yaml:"topic_check_interval"`
	// WatchTopics are other topics the reader's user needs (a worker's
	// output and dead-letter topics): while one of them, or Topic, is
	// missing the reader stays in its group but fetches nothing, and
	// Health names the missing topics.
	WatchTopics []string `yaml:"watch_topics"`

	// Dialer opens the connections; set it to add TLS or SASL. Nil means a
	// plain-TCP dialer with ClientID.
	Dialer *kafka.Dialer `yaml:"-"`
	// Logger receives the reader's few log lines: a topic missing or back,
	// fetch and join failures and their recovery (default slog.Default()).
	Logger *slog.Logger `yaml:"-"`
}

// SetDefaults fills every zero field that has a default. It is not safe for
// concurrent use on the same config.
func (c *ReaderConfig) SetDefaults() {
	setInt(&c.MinBytes, 1)
	setInt(&c.MaxBytes, 4<<20)
	d := DefaultTuning()
	setDur(&c.MaxWait, d.MaxWait)
	setInt(&c.QueueCapacity, 4)
	setDur(&c.SessionTimeout, d.SessionTimeout)
	setDur(&c.HeartbeatInterval, d.HeartbeatInterval)
	setDur(&c.RebalanceTimeout, d.RebalanceTimeout)
	setDur(&c.JoinGroupBackoff, time.Second)
	setDur(&c.CloseTimeout, 10*time.Second)
	setDur(&c.DrainTimeout, min(c.SessionTimeout/3, 10*time.Second))
	setDur(&c.TopicCheckInterval, 2*time.Second)
	if c.StartOffset == "" {
		c.StartOffset = StartEarliest
	}
	if c.ClientID == "" {
		c.ClientID = "sluice"
	}
}

// Validate reports the first invalid field by its YAML name. Call it after
// SetDefaults: zero durations and sizes are invalid. It is safe for
// concurrent use.
func (c *ReaderConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return invalid("brokers", "at least one broker address is required")
	case c.Topic == "":
		return invalid("topic", "required")
	case c.GroupID == "":
		return invalid("group_id", "required (sluice always consumes in a group)")
	case c.MinBytes < 1:
		return invalid("min_bytes", "must be at least 1")
	case c.MaxBytes < c.MinBytes:
		return invalid("max_bytes", "must be at least min_bytes")
	case c.MaxWait <= 0:
		return invalid("max_wait", "must be positive")
	case c.QueueCapacity < 1:
		return invalid("queue_capacity", "must be at least 1")
	case c.SessionTimeout <= 0:
		return invalid("session_timeout", "must be positive")
	case c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.SessionTimeout:
		return invalid("heartbeat_interval", "must be positive and less than session_timeout")
	case c.RebalanceTimeout <= 0:
		return invalid("rebalance_timeout", "must be positive")
	case c.JoinGroupBackoff <= 0:
		return invalid("join_group_backoff", "must be positive")
	case c.CloseTimeout <= 0:
		return invalid("close_timeout", "must be positive")
	case c.DrainTimeout <= 0 || c.DrainTimeout >= c.SessionTimeout:
		return invalid("drain_timeout", "must be positive and less than session_timeout")
	case c.TopicCheckInterval <= 0:
		return invalid("topic_check_interval", "must be positive")
	case c.StartOffset != StartEarliest && c.StartOffset != StartLatest:
		return invalid("start_offset", fmt.Sprintf("%q is not %q or %q", c.StartOffset, StartEarliest, StartLatest))
	}
	for i, b := range c.Brokers {
		if b == "" {
			return invalid(fmt.Sprintf("brokers[%d]", i), "empty address")
		}
	}
	for i, t := range c.WatchTopics {
		if t == "" {
			return invalid(fmt.Sprintf("watch_topics[%d]", i), "empty topic name")
		}
	}
	return nil
}

// ErrInvalidConfig is wrapped by every Validate error of this package.
var ErrInvalidConfig = errors.New("consumers: invalid config")

// invalid is the error of a field, by its YAML key, that matches
// ErrInvalidConfig.
func invalid(field, why string) error {
	return keyerr.Wrap(ErrInvalidConfig, field, "%s", why)
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDur(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}
