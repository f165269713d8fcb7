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

// AsyncWriter enqueues messages without waiting and reports each partition
// batch's outcome to a completion func: the pipeline's hot path, where acks
// travel with the data (kafka.Message.WriterData carries the caller's
// handle to the completion). Messages enqueued by one goroutine keep their
// order per partition. Enqueue and Close are safe for concurrent use.
type AsyncWriter struct {
	kw           *kafka.Writer
	own          *kafka.Transport
	closeTimeout time.Duration
	closeOnce    sync.Once
	closeErr     error
}

// NewAsyncWriter validates cfg (after filling its defaults) and returns a
// writer that calls done, from the writer's own goroutines, once for every
// partition batch with the messages in it and the error that failed them
// (nil: acknowledged by all in-sync replicas). done must not block for long.
// m may be nil.
func NewAsyncWriter(cfg WriterConfig, m *Metrics, done func(msgs []kafka.Message, err error)) (*AsyncWriter, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if done == nil {
		return nil, errors.New("producers: NewAsyncWriter needs a completion func")
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	w := &AsyncWriter{closeTimeout: cfg.CloseTimeout}
	tr := cfg.Transport
	if tr == nil {
		w.own = &kafka.Transport{ClientID: cfg.ClientID}
		tr = w.own
	}
	comp, _ := compression(cfg.Compression)
	w.kw = &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Topic:                  cfg.Topic,
		Balancer:               kafka.Murmur2Balancer{},
		BatchTimeout:           cfg.BatchTimeout,
		BatchSize:              cfg.BatchSize,
		BatchBytes:             cfg.BatchBytes,
		WriteTimeout:           cfg.WriteTimeout,
		ReadTimeout:            cfg.WriteTimeout,
		RequiredAcks:           kafka.RequireAll,
		Async:                  true,
		Compression:            comp,
		Transport:              tr,
		AllowAutoTopicCreation: false,
		Completion: func(msgs []kafka.Message, err error) {
			if len(msgs) > 0 {
				tm := m.topic(msgs[0].Topic) // one call = one partition of one topic
				if err != nil {
					tm.failed.Add(float64(len(msgs)))
				} else {
					tm.produced.Add(float64(len(msgs)))
				}
			}
			done(msgs, err)
		},
	}
	return w, nil
}

// Enqueue hands msgs to the writer and returns at once; their outcome
// reaches the completion func. An error here means none of msgs was
// enqueued (the topic's metadata could not be read, a message is larger
// than BatchBytes, or the writer is closed).
func (w *AsyncWriter) Enqueue(msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	// In async mode the context only reaches the topic metadata lookup,
	// which the transport caches and bounds by its own timeouts.
	err := w.kw.WriteMessages(context.Background(), msgs...)
	if errors.Is(err, io.ErrClosedPipe) {
		return ErrClosed
	}
	if err != nil {
		return fmt.Errorf("enqueueing %d messages: %w", len(msgs), err)
	}
	return nil
}

// Close flushes what is buffered and waits, at most WriterConfig.CloseTimeout,
// until every completion has run.
func (w *AsyncWriter) Close() error {
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
