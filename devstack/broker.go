package devstack

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/internal/redisproc"
)

// Retention defaults of the dev broker. Kafka keeps a week and any size;
// on a laptop that fills the disk in minutes at a load test's rate, so the
// dev broker keeps an hour and at most 128 MiB per partition.
const (
	DefaultRetentionMs    = int64(time.Hour / time.Millisecond)
	DefaultRetentionBytes = 128 << 20
	DefaultSegmentBytes   = 16 << 20
	// DefaultRetentionCheck is how often retention is applied; Kafka's
	// log.retention.check.interval.ms is 5 minutes, which at a dev load
	// test's rate is gigabytes over the limit.
	DefaultRetentionCheck = 10 * time.Second
)

// BrokerConfig is the dev broker's configuration. Zero fields take the
// defaults named beside them; retention fields take -1 for "no limit", as
// Kafka's do.
type BrokerConfig struct {
	Addr       string // host:port; port 0 picks a free one
	Dir        string // the log; empty keeps it in memory
	Partitions int32  // of every topic created without a count (default 4)
	// AutoCreate creates a topic the first time a client asks for it in a
	// metadata request that allows it, as Kafka's auto.create.topics.enable
	// (on by default) does.
	AutoCreate bool
	// RetentionMs is Kafka's log.retention.ms: records older than this many
	// milliseconds are deleted (default DefaultRetentionMs; -1 keeps them).
	RetentionMs int64
	// RetentionBytes is Kafka's log.retention.bytes: each partition keeps at
	// most this many bytes of records, the oldest going first (default
	// DefaultRetentionBytes; -1 is no limit).
	RetentionBytes int64
	// SegmentBytes is Kafka's log.segment.bytes: the log's files roll at
	// this size, and retention deletes whole files, so a partition's disk
	// use is at most RetentionBytes + SegmentBytes (default
	// DefaultSegmentBytes).
	SegmentBytes int64
	// RetentionCheck is how often retention runs (default
	// DefaultRetentionCheck).
	RetentionCheck time.Duration
}

// withDefaults fills zero fields.
func (c BrokerConfig) withDefaults() BrokerConfig {
	if c.Partitions == 0 {
		c.Partitions = 4
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = DefaultRetentionMs
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = DefaultRetentionBytes
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.RetentionCheck == 0 {
		c.RetentionCheck = DefaultRetentionCheck
	}
	return c
}

// Validate reports the first field that cannot work, naming its flag.
func (c BrokerConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Partitions < 1:
		return fmt.Errorf("--partitions: must be at least 1, got %d", c.Partitions)
	case c.RetentionMs < -1:
		return fmt.Errorf("--retention-ms: must be positive or -1, got %d", c.RetentionMs)
	case c.RetentionBytes < -1:
		return fmt.Errorf("--retention-bytes: must be positive or -1, got %d", c.RetentionBytes)
	case c.SegmentBytes < 1<<10:
		return fmt.Errorf("--segment-bytes: must be at least 1024, got %d", c.SegmentBytes)
	case c.RetentionCheck < 0:
		return fmt.Errorf("--retention-check: must be positive, got %s", c.RetentionCheck)
	}
	return nil
}

// Broker is the dev stack's Kafka-protocol broker: franz-go's kfake, with
// its log in a directory, topics created on first use, and Kafka's time
// and size retention applied on a timer (kfake implements the deletion
// itself but runs it only for topics with their own retention settings).
type Broker struct {
	*kfake.Cluster
	cfg BrokerConfig
}

// StartBroker starts the broker; Run applies its retention until ctx ends,
// and Close stops it.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("--kafka-addr: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("--kafka-addr: bad port %q", portStr)
	}
	if port == 0 {
		if port, err = redisproc.FreePort(); err != nil {
			return nil, err
		}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DefaultNumPartitions(int(cfg.Partitions)),
		kfake.BrokerConfigs(map[string]string{
			"log.retention.ms":    strconv.FormatInt(cfg.RetentionMs, 10),
			"log.retention.bytes": strconv.FormatInt(cfg.RetentionBytes, 10),
			"log.segment.bytes":   strconv.FormatInt(cfg.SegmentBytes, 10),
		}),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if cfg.Dir != "" {
		opts = append(opts, kfake.DataDir(cfg.Dir))
	}
	if cfg.AutoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the in-process Kafka broker on %s: %w", cfg.Addr, err)
	}
	return &Broker{Cluster: c, cfg: cfg}, nil
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.ListenAddrs()[0] }

// EnsureTopics creates each topic that does not exist yet with the
// broker's partition count.
func (b *Broker) EnsureTopics(topics ...string) error {
	for _, t := range topics {
		if t == "" || b.TopicInfo(t) != nil {
			continue
		}
		if err := b.CreateTopic(t, b.cfg.Partitions, nil); err != nil {
			return fmt.Errorf("creating topic %s: %w", t, err)
		}
	}
	return nil
}

// Run applies retention every RetentionCheck until ctx ends: each
// partition drops its oldest records older than RetentionMs or beyond
// RetentionBytes, and the log files that held only those are deleted.
// Consumers positioned before the new start of a partition are moved by
// their clients' reset policy, as with Kafka.
func (b *Broker) Run(ctx context.Context) error {
	t := time.NewTicker(b.cfg.RetentionCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			b.ApplyRetention()
		}
	}
}
