package producers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// ErrClosed is the error of a Write after Close.
var ErrClosed = errors.New("producers: writer closed")

// ErrCloseTimeout is returned by Close when buffered messages were not
// flushed within WriterConfig.CloseTimeout.
var ErrCloseTimeout = errors.New("producers: close timed out")

// Writer produces messages with acks from all in-sync replicas and murmur2
// key partitioning. Write and Close are safe for concurrent use, and
// concurrent Writes are how to get throughput: each Write waits for its own
// acknowledgements (and for BatchTimeout when its batch is not full), while
// the messages of concurrent Writes share batches.
type Writer struct {
	kw           *kafka.Writer
	own          *kafka.Transport // created here, closed by Close; nil if the caller's
	m            *Metrics
	fixed        *topicMetrics // metrics of the writer's topic, nil if per message
	closeTimeout time.Duration

	closeOnce sync.Once
	closeErr  error
}

// NewWriter validates cfg (after filling its defaults) and returns a Writer.
// It does not connect; the first Write does. m may be nil (metrics are then
// not registered anywhere).
func NewWriter(cfg WriterConfig, m *Metrics) (*Writer, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	comp, _ := compression(cfg.Compression) // checked by Validate
	if m == nil {
		m = NewMetrics(nil)
	}
	w := &Writer{m: m, closeTimeout: cfg.CloseTimeout}
	tr := cfg.Transport
	if tr == nil {
		w.own = &kafka.Transport{ClientID: cfg.ClientID}
		tr = w.own
	}
	if cfg.Topic != "" {
		w.fixed = m.topic(cfg.Topic)
	}
	w.kw = &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        cfg.Topic,
		Balancer:     kafka.Murmur2Balancer{}, // Java-compatible; nil keys go to a random partition
		BatchTimeout: cfg.BatchTimeout,
		BatchSize:    cfg.BatchSize,
		BatchBytes:   cfg.BatchBytes,
		WriteTimeout: cfg.WriteTimeout,
		ReadTimeout:  cfg.WriteTimeout,
		RequiredAcks: kafka.RequireAll,
		Async:        false,
		Compression:  comp,
		Transport:    tr,
		// A typo in a topic name must fail, not create a topic with the
		// broker's default partition count.
		AllowAutoTopicCreation: false,
	}
	return w, nil
}

// Write sends msgs and returns once every one of them is acknowledged by
// all in-sync replicas, or failed. Messages with the same key go to the same
// partition, in the order given. On failure the error is a *WriteError that
// says how many failed and which; it wraps the first cause. If ctx ends
// first, Write returns but the messages may still be written: do not reuse
// their byte slices, and treat them as failed (a retry may duplicate them).
func (w *Writer) Write(ctx context.Context, msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	start := time.Now()
	err := w.kw.WriteMessages(ctx, msgs...)
	w.m.seconds.Observe(time.Since(start).Seconds())
	if err == nil {
		w.count(msgs, nil, true)
		return nil
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) && len(werrs) == len(msgs) {
		w.count(msgs, werrs, false)
		we := &WriteError{Failed: werrs.Count(), Total: len(msgs), PerMessage: werrs}
		for _, e := range werrs {
			if e != nil {
				we.Err = e
				break
			}
		}
		return we
	}
	if errors.Is(err, io.ErrClosedPipe) {
		err = ErrClosed
	}
	w.count(msgs, nil, false)
	return &WriteError{Failed: len(msgs), Total: len(msgs), Err: err}
}

// count adds msgs to the produced or failed counters of their topics:
// errs[i] says whether message i failed, or, with errs nil, ok says for all.
func (w *Writer) count(msgs []kafka.Message, errs kafka.WriteErrors, ok bool) {
	if w.fixed != nil && errs == nil {
		c := w.fixed.produced
		if !ok {
			c = w.fixed.failed
		}
		c.Add(float64(len(msgs)))
		return
	}
	for i := range msgs {
		tm := w.fixed
		if tm == nil {
			tm = w.m.topic(msgs[i].Topic)
		}
		if (errs == nil && ok) || (errs != nil && errs[i] == nil) {
			tm.produced.Inc()
		} else {
			tm.failed.Inc()
		}
	}
}

// Close flushes buffered messages and waits for writes in flight, at most
// WriterConfig.CloseTimeout (then it returns ErrCloseTimeout). Later Writes
// fail with ErrClosed; later Closes return the first one's result.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		done := make(chan error, 1)
		go func() { done <- w.kw.Close() }()
		t := time.NewTimer(w.closeTimeout)
		defer t.Stop()
		select {
		case err := <-done:
			if err != nil {
				w.closeErr = fmt.Errorf("closing writer: %w", err)
			}
		case <-t.C:
			w.closeErr = ErrCloseTimeout
		}
		if w.own != nil {
			w.own.CloseIdleConnections()
		}
	})
	return w.closeErr
}
