package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// ErrClosed is returned by Fetch, Next and Commit once the Reader is closed.
var ErrClosed = errors.New("consumers: reader closed")

// ErrCloseTimeout is returned by Close when the reader did not stop within
// ReaderConfig.CloseTimeout; its goroutines finish in the background.
var ErrCloseTimeout = errors.New("consumers: close timed out")

// Reader is a consumer-group member of one topic. Membership is kafka-go's
// ConsumerGroup: each generation it hands out (Generation.Assignments) is
// fetched partition by partition from the offset the group committed, and
// commits are sent through that generation (Generation.CommitOffsets), so
// the broker refuses them once the group has moved on. Messages are only
// fetched, never auto-committed: a caller commits what is done, normally
// through a Tracker (NewTracker), which also decides where each partition
// is fetched from and drains what was handed out before the member rejoins.
//
// Fetch, Commit, Close and the accessors are safe for concurrent use; only
// one goroutine should fetch.
type Reader struct {
	cfg          ReaderConfig
	topic, group string
	log          *slog.Logger
	client       *kafka.Client // fetches, metadata, end offsets
	transport    *kafka.Transport

	startOnce sync.Once
	started   atomic.Bool
	tracker   *Tracker // set by NewTracker before the first generation

	// batches carries fetch responses from the partition fetchers to Fetch
	// (or Tracker.Next), each tagged with its generation's seq. cur is the
	// one being handed out; only the fetching goroutine touches it.
	batches chan batch
	cur     batch
	pos     int
	// joinErrs carries the latest failure to join the group to Fetch.
	joinErrs chan error

	genMu sync.Mutex
	gen   *genState // the current generation; nil between generations
	// seq counts the generations this member was given (Generation);
	// liveSeq is the seq whose fetchers run, 0 while none do.
	seq     atomic.Uint64
	liveSeq atomic.Uint64

	health health

	ctx       context.Context // ends at Close
	cancel    context.CancelFunc
	done      chan struct{} // closed when the group loop and the watcher have stopped
	closeOnce sync.Once
	closeErr  error
}

// batch is one fetch response of one partition, in offset order.
type batch struct {
	seq  uint64
	msgs []kafka.Message
}

// NewReader validates cfg (after filling its defaults) and returns a
// reader. It joins the group on the first Fetch (or Tracker.Next); Close
// leaves it.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.WatchTopics = append([]string(nil), cfg.WatchTopics...)
	if cfg.Dialer == nil {
		cfg.Dialer = &kafka.Dialer{ClientID: cfg.ClientID, Timeout: 10 * time.Second, DualStack: true}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Reader{
		cfg:      cfg,
		topic:    cfg.Topic,
		group:    cfg.GroupID,
		log:      cfg.Logger.With("topic", cfg.Topic, "group", cfg.GroupID),
		batches:  make(chan batch, cfg.QueueCapacity),
		joinErrs: make(chan error, 1),
		done:     make(chan struct{}),
	}
	r.health.rejoin = make(chan struct{}, 1)
	r.health.partitions.Store(-1)
	r.transport = newTransport(cfg.Dialer)
	r.client = &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second, Transport: r.transport}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// start joins the group and starts the topic watcher, once.
func (r *Reader) start() {
	r.startOnce.Do(func() {
		if r.ctx.Err() != nil {
			close(r.done)
			return
		}
		cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
			ID:                r.group,
			Brokers:           r.cfg.Brokers,
			Dialer:            r.cfg.Dialer,
			Topics:            []string{r.topic},
			HeartbeatInterval: r.cfg.HeartbeatInterval,
			SessionTimeout:    r.cfg.SessionTimeout,
			RebalanceTimeout:  r.cfg.RebalanceTimeout,
			JoinGroupBackoff:  r.cfg.JoinGroupBackoff,
			StartOffset:       r.startOffset(),
			Timeout:           10 * time.Second,
		})
		if err != nil { // the config was validated; this is a bug
			panic(fmt.Sprintf("consumers: creating the consumer group: %v", err))
		}
		r.started.Store(true)
		var wg sync.WaitGroup
		wg.Go(func() { r.runGroup(cg) })
		wg.Go(r.watch)
		go func() { wg.Wait(); close(r.done) }()
	})
}

func (r *Reader) startOffset() int64 {
	if r.cfg.StartOffset == StartLatest {
		return kafka.LastOffset
	}
	return kafka.FirstOffset
}

// runGroup takes the generations kafka-go's ConsumerGroup hands out until
// the reader closes, then closes the group (which ends the generation and
// leaves the group).
func (r *Reader) runGroup(cg *kafka.ConsumerGroup) {
	defer cg.Close()
	for {
		kg, err := cg.Next(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return
			}
			r.health.joinFailed(r.log, err)
			select {
			case r.joinErrs <- err:
			default: // Fetch has not taken the last one yet
			}
			continue
		}
		seq := r.seq.Add(1)
		kg.Start(func(ctx context.Context) { r.runGeneration(ctx, kg, seq) })
	}
}

// Joined reports whether the reader is a member of a current generation of
// its group (false before the first join and while the group rebalances).
// Safe for concurrent use.
func (r *Reader) Joined() bool {
	r.genMu.Lock()
	defer r.genMu.Unlock()
	return r.gen != nil
}

// Generation counts the consumer-group generations this reader was given:
// 0 before the first, then 1, 2, ... (not the coordinator's generation id,
// which Health reports). Safe for concurrent use.
func (r *Reader) Generation() uint64 { return r.seq.Load() }

// Topic returns the topic the reader consumes.
func (r *Reader) Topic() string { return r.topic }

// GroupID returns the reader's consumer group.
func (r *Reader) GroupID() string { return r.group }

// Fetch returns the next message of a partition assigned to this member in
// the current generation. Messages of one partition come in offset order,
// though offsets may skip (compaction, transaction markers). It returns
// ctx.Err() when ctx ends and ErrClosed once the reader is closed; any other
// error is transient (the group could not be joined, wrong credentials say)
// and the caller may call Fetch again. A reader with a Tracker is fetched
// through Tracker.Next instead.
func (r *Reader) Fetch(ctx context.Context) (kafka.Message, error) {
	for {
		if r.pos < len(r.cur.msgs) {
			if r.cur.seq == r.liveSeq.Load() {
				m := r.cur.msgs[r.pos]
				r.pos++
				return m, nil
			}
			r.cur = batch{} // fetched in a generation that has ended
			continue
		}
		b, err := r.nextBatch(ctx)
		if err != nil {
			return kafka.Message{}, err
		}
		r.cur, r.pos = b, 0
	}
}

// nextBatch waits for the next fetch response.
func (r *Reader) nextBatch(ctx context.Context) (batch, error) {
	r.start()
	select {
	case b := <-r.batches:
		return b, nil
	case <-ctx.Done():
		return batch{}, ctx.Err()
	case <-r.ctx.Done():
		return batch{}, ErrClosed
	case err := <-r.joinErrs:
		return batch{}, fmt.Errorf("joining group %s: %w", r.group, err)
	}
}

// Close ends the current generation (committing, with a Tracker, what was
// acknowledged), leaves the group and stops the fetchers, waiting at most
// ReaderConfig.CloseTimeout (then it returns ErrCloseTimeout and the rest
// finishes in the background). Offsets not committed before Close are
// redelivered to whichever member gets the partition. Later calls return
// the first call's result.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		r.start() // never started: closes done at once
		t := time.NewTimer(r.cfg.CloseTimeout)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
			r.closeErr = ErrCloseTimeout
		}
		r.transport.CloseIdleConnections()
	})
	return r.closeErr
}

// newTransport carries the reader's own requests (fetches, metadata,
// offsets) over the same kind of connection (TLS, SASL) as its dialer.
func newTransport(d *kafka.Dialer) *kafka.Transport {
	return &kafka.Transport{
		Dial:        d.DialFunc,
		DialTimeout: d.Timeout,
		ClientID:    d.ClientID,
		TLS:         d.TLS,
		SASL:        d.SASLMechanism,
	}
}
