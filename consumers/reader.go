package consumers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// ErrClosed is returned by Fetch and Commit once the Reader is closed.
var ErrClosed = errors.New("consumers: reader closed")

// ErrCloseTimeout is returned by Close when the reader did not stop within
// ReaderConfig.CloseTimeout; its goroutines finish in the background.
var ErrCloseTimeout = errors.New("consumers: close timed out")

// Reader is a consumer-group member of one topic. Messages are only fetched,
// never auto-committed: a caller commits what is done, normally through a
// Tracker. Fetch, Commit and Close are safe for concurrent use.
type Reader struct {
	kr           *kafka.Reader
	topic, group string
	closeTimeout time.Duration

	// closed ends when Close has stopped the kafka-go reader (or given up
	// waiting). CommitMessages can queue a request on a closed reader and
	// then wait for an answer that never comes; Commit waits on closed too.
	// joined is set once kafka-go reports that this member joined its
	// group (it says so only through its logger).
	joined atomic.Bool
	// generation counts the group generations in which kafka-go assigned
	// this member partitions (it logs "subscribed to topics and
	// partitions" once it has started fetching them); cur is the latest,
	// pending the one being joined. Commits carry cur (see groupcommit.go).
	generation atomic.Uint64
	genMu      sync.Mutex
	cur        groupGen
	pending    groupGen
	committer  *kafka.Client
	transport  *kafka.Transport

	closed    context.Context
	markClose context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

// NewReader validates cfg (after filling its defaults) and starts a group
// reader. It does not wait for the group to form: the first Fetch blocks
// until partitions are assigned and a message is there.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := kafka.FirstOffset
	if cfg.StartOffset == StartLatest {
		start = kafka.LastOffset
	}
	dialer := cfg.Dialer
	if dialer == nil {
		dialer = &kafka.Dialer{ClientID: cfg.ClientID, Timeout: 10 * time.Second, DualStack: true}
	}
	kc := kafka.ReaderConfig{
		Brokers:           cfg.Brokers,
		GroupID:           cfg.GroupID,
		Topic:             cfg.Topic,
		Dialer:            dialer,
		QueueCapacity:     cfg.QueueCapacity,
		MinBytes:          cfg.MinBytes,
		MaxBytes:          cfg.MaxBytes,
		MaxWait:           cfg.MaxWait,
		SessionTimeout:    cfg.SessionTimeout,
		HeartbeatInterval: cfg.HeartbeatInterval,
		RebalanceTimeout:  cfg.RebalanceTimeout,
		JoinGroupBackoff:  cfg.JoinGroupBackoff,
		StartOffset:       start,
		// CommitInterval 0: CommitMessages is synchronous, it returns once
		// the broker answered. We never call ReadMessage (it commits before
		// the event is processed).
		CommitInterval: 0,
	}
	// kafka.NewReader panics on an invalid config; check first.
	if err := kc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	r := &Reader{
		topic:        cfg.Topic,
		group:        cfg.GroupID,
		closeTimeout: cfg.CloseTimeout,
	}
	kc.Logger = kafka.LoggerFunc(func(msg string, args ...any) {
		switch {
		case strings.HasPrefix(msg, "joined group"):
			r.joined.Store(true)
			r.joinedGeneration(args)
		case strings.HasPrefix(msg, "subscribed to topics and partitions"):
			// Logged after kafka-go moved to the new generation's fetchers:
			// FetchMessage drops what older ones had buffered.
			r.subscribed()
		}
	})
	r.transport = newCommitTransport(dialer)
	r.committer = &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second, Transport: r.transport}
	r.kr = kafka.NewReader(kc)
	r.closed, r.markClose = context.WithCancel(context.Background())
	return r, nil
}

// Joined reports whether the reader has joined its consumer group (at least
// once; it stays true through rebalances). Safe for concurrent use.
func (r *Reader) Joined() bool { return r.joined.Load() }

// Generation counts the consumer-group generations in which this reader
// was assigned partitions: 0 before the first assignment, then 1, 2, ...
// (not the broker's generation id). After each rebalance kafka-go fetches
// every assigned partition again from its committed offset. A message that
// Fetch returns after a call to Generation that returned g was fetched in
// generation g or later. Safe for concurrent use.
func (r *Reader) Generation() uint64 { return r.generation.Load() }

// Topic returns the topic the reader consumes.
func (r *Reader) Topic() string { return r.topic }

// GroupID returns the reader's consumer group.
func (r *Reader) GroupID() string { return r.group }

// Fetch returns the next message. Messages of one partition come in offset
// order, though offsets may skip (compaction, transaction markers). It
// returns ctx.Err() when ctx ends and ErrClosed once the reader is closed;
// any other error is transient (the group could not be joined yet) and the
// caller may call Fetch again.
func (r *Reader) Fetch(ctx context.Context) (kafka.Message, error) {
	m, err := r.kr.FetchMessage(ctx)
	switch {
	case err == nil:
		return m, nil
	case ctx.Err() != nil:
		return kafka.Message{}, ctx.Err()
	case errors.Is(err, io.EOF) && r.closed.Err() != nil:
		return kafka.Message{}, ErrClosed
	default:
		return kafka.Message{}, fmt.Errorf("fetching message: %w", err)
	}
}

// Close leaves the group and stops the fetchers, waiting at most
// ReaderConfig.CloseTimeout (then it returns ErrCloseTimeout and the rest
// finishes in the background). Offsets not committed before Close are
// redelivered to whichever member gets the partition. Later calls return
// the first call's result.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		done := make(chan error, 1)
		go func() { done <- r.kr.Close() }()
		t := time.NewTimer(r.closeTimeout)
		defer t.Stop()
		select {
		case err := <-done:
			if err != nil {
				r.closeErr = fmt.Errorf("closing reader: %w", err)
			}
		case <-t.C:
			r.closeErr = ErrCloseTimeout
		}
		r.markClose()
		r.transport.CloseIdleConnections()
	})
	return r.closeErr
}
