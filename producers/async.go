package producers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/backoff"
)

// AsyncWriter enqueues messages without waiting and reports each produce
// request's outcome to a completion func: the pipeline's hot path, where
// acks travel with the data (kafka.Message.WriterData carries the caller's
// handle to the completion).
//
// It batches the way the broker's round trips allow rather than by a
// timer: each partition has at most one produce request in flight; a
// partition with none sends what it has at once, and what arrives while a
// request is in flight goes out in the next one, as soon as that request
// is answered. Under light load a message waits for no timer; under heavy
// load requests grow towards BatchSize and BatchBytes. (kafka-go's Writer
// holds every partial batch for its BatchTimeout instead; BatchTimeout
// does not apply here.)
//
// Messages enqueued by one goroutine keep their order per partition.
// Enqueue and Close are safe for concurrent use.
type AsyncWriter struct {
	cfg    WriterConfig
	client *kafka.Client
	own    *kafka.Transport
	comp   kafka.Compression
	m      *Metrics
	done   func([]kafka.Message, error)
	// abort ends every request and backoff wait once Close has waited
	// CloseTimeout: what was not acknowledged by then fails with
	// ErrClosed, so no sender outlives Close.
	abort     context.Context
	cancelAll context.CancelFunc

	mu      sync.Mutex
	closed  bool
	topics  map[string]*topicInfo
	parts   map[partKey]*partQueue
	running sync.WaitGroup // one per partition with a request in flight
}

type partKey struct {
	topic     string
	partition int
}

// partQueue is one partition's messages waiting for the next request; busy
// while a goroutine is sending this partition's requests.
type partQueue struct {
	pending []kafka.Message
	busy    bool
}

// produceAttempts is how often one request is tried before its messages are
// reported failed.
const produceAttempts = 10

// NewAsyncWriter validates cfg (after filling its defaults) and returns a
// writer that calls done, from the writer's own goroutines, once for every
// produce request with the messages in it and the error that failed them
// (nil: acknowledged by all in-sync replicas). A request holds messages of
// one partition, in the order they were enqueued. done must not block for
// long. m may be nil.
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
	w := &AsyncWriter{cfg: cfg, m: m, done: done, topics: map[string]*topicInfo{}, parts: map[partKey]*partQueue{}}
	w.abort, w.cancelAll = context.WithCancel(context.Background())
	tr := cfg.Transport
	if tr == nil {
		w.own = &kafka.Transport{ClientID: cfg.ClientID}
		tr = w.own
	}
	w.comp, _ = compression(cfg.Compression)
	w.client = &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: cfg.WriteTimeout, Transport: tr}
	return w, nil
}

// Enqueue hands msgs to the writer and returns at once; their outcome
// reaches the completion func. An error here means none of msgs was
// enqueued: a topic's metadata could not be read, a message names no
// topic, the writer is closed, or a message is larger than its topic takes
// (a *TooLargeError naming the first such message; see MessageLimit).
func (w *AsyncWriter) Enqueue(msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	keys := make([]partKey, len(msgs))
	var last *topicInfo
	for i := range msgs {
		m := &msgs[i]
		topic := m.Topic
		if topic == "" {
			topic = w.cfg.Topic
		}
		if topic == "" {
			return fmt.Errorf("enqueueing %d messages: message %d names no topic", len(msgs), i)
		}
		if last == nil || topic != keys[i-1].topic {
			ti, err := w.topic(topic)
			if err != nil {
				return fmt.Errorf("enqueueing %d messages: %w", len(msgs), err)
			}
			last = ti
		}
		if size := MessageSize(m); size > last.limit-batchOverhead {
			return &TooLargeError{Index: i, Topic: topic, Size: size, Limit: last.limit - batchOverhead}
		}
		keys[i] = partKey{topic, kafka.Murmur2Balancer{}.Balance(*m, last.partitions...)}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	for i := range msgs {
		q := w.parts[keys[i]]
		if q == nil {
			q = &partQueue{}
			w.parts[keys[i]] = q
		}
		m := msgs[i]
		m.Topic, m.Partition = keys[i].topic, keys[i].partition
		q.pending = append(q.pending, m)
	}
	for i := range msgs {
		if q := w.parts[keys[i]]; !q.busy && len(q.pending) > 0 {
			q.busy = true
			w.running.Add(1)
			go w.send(keys[i], q)
		}
	}
	return nil
}

// send writes q's messages, one request at a time, until none are waiting.
func (w *AsyncWriter) send(key partKey, q *partQueue) {
	defer w.running.Done()
	for {
		w.mu.Lock()
		batch := w.take(q, w.topics[key.topic].limit)
		if len(batch) == 0 {
			q.busy = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		err := ErrClosed
		if w.abort.Err() == nil {
			err = w.produce(key, batch)
		}
		tm := w.m.topic(key.topic)
		if err != nil {
			tm.failed.Add(float64(len(batch)))
		} else {
			tm.produced.Add(float64(len(batch)))
		}
		w.done(batch, err)
	}
}

// take removes the next request's messages from q: up to BatchSize
// messages in a record batch of at most limit bytes (the smaller of
// BatchBytes and the topic's max.message.bytes; at least one message).
// w.mu is held.
func (w *AsyncWriter) take(q *partQueue, limit int64) []kafka.Message {
	n, bytes := 0, int64(batchOverhead)
	for n < len(q.pending) && n < w.cfg.BatchSize {
		size := MessageSize(&q.pending[n])
		if n > 0 && bytes+size > limit {
			break
		}
		bytes += size
		n++
	}
	batch := q.pending[:n:n]
	if n == len(q.pending) {
		q.pending = nil
	} else {
		q.pending = q.pending[n:]
	}
	return batch
}

// produceBackoff is the wait between the tries of one request.
var produceBackoff = backoff.Policy{First: 100 * time.Millisecond, Max: time.Second}

// produce sends one request, retrying errors that may pass (a leader
// moving, a broker restarting) with backoff. Once Close gave up waiting it
// stops and returns ErrClosed: the broker may or may not have the
// messages, and they are not reported written.
func (w *AsyncWriter) produce(key partKey, batch []kafka.Message) error {
	var err error
	for attempt := 0; attempt < produceAttempts; attempt++ {
		if attempt > 0 && !backoff.Sleep(w.abort, produceBackoff.Delay(attempt)) {
			return fmt.Errorf("producing %d messages to %s/%d: %w (last error: %v)", len(batch), key.topic, key.partition, ErrClosed, err)
		}
		ctx, cancel := context.WithTimeout(w.abort, w.cfg.WriteTimeout)
		var res *kafka.ProduceResponse
		res, err = w.client.Produce(ctx, &kafka.ProduceRequest{
			Topic:        key.topic,
			Partition:    key.partition,
			RequiredAcks: kafka.RequireAll,
			Compression:  w.comp,
			Records:      &messageRecords{msgs: batch},
		})
		cancel()
		if err != nil && w.abort.Err() != nil {
			return fmt.Errorf("producing %d messages to %s/%d: %w (last error: %v)", len(batch), key.topic, key.partition, ErrClosed, err)
		}
		if err == nil && res.Error != nil {
			err = res.Error
		}
		if err == nil {
			for _, rerr := range res.RecordErrors {
				err = rerr
				break
			}
		}
		if err == nil {
			for i := range batch {
				batch[i].Offset = res.BaseOffset + int64(i)
			}
			return nil
		}
		if !retriable(err) {
			break
		}
	}
	return fmt.Errorf("producing %d messages to %s/%d: %w", len(batch), key.topic, key.partition, err)
}

// retriable reports whether err may pass on its own: Kafka's temporary
// errors and anything that is not a Kafka error (network errors).
func retriable(err error) bool {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	return true
}

// messageRecords reads kafka.Messages as records of one produce request.
type messageRecords struct {
	msgs []kafka.Message
	i    int
	rec  kafka.Record
}

func (r *messageRecords) ReadRecord() (*kafka.Record, error) {
	if r.i >= len(r.msgs) {
		return nil, io.EOF
	}
	m := &r.msgs[r.i]
	r.i++
	r.rec = kafka.Record{Time: m.Time, Headers: m.Headers}
	if m.Key != nil {
		r.rec.Key = kafka.NewBytes(m.Key)
	}
	if m.Value != nil {
		r.rec.Value = kafka.NewBytes(m.Value)
	}
	return &r.rec, nil
}

// Record-batch framing, bounded from above: the batch header, and per
// record its length, attributes, timestamp and offset deltas and the key,
// value and header-count lengths (varints), and per header two lengths.
const (
	batchOverhead  = 61
	recordOverhead = 40
	headerOverhead = 10
)

// MessageSize is the most bytes m takes in a record batch (its key, value
// and headers and their framing), as the writers count it against
// batch_bytes and a topic's max.message.bytes. Safe for concurrent use.
func MessageSize(m *kafka.Message) int64 {
	n := int64(len(m.Key)+len(m.Value)) + recordOverhead
	for _, h := range m.Headers {
		n += int64(len(h.Key)+len(h.Value)) + headerOverhead
	}
	return n
}

// Close sends what is waiting and waits, at most WriterConfig.CloseTimeout,
// until every completion has run. When the wait times out, the requests
// still in flight or waiting to be retried are abandoned: their messages
// are completed with ErrClosed, and Close returns ErrCloseTimeout once every
// completion has run, so no goroutine of the writer outlives it. Enqueue
// fails with ErrClosed afterwards.
func (w *AsyncWriter) Close() error {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if already {
		return nil
	}
	done := make(chan struct{})
	go func() { w.running.Wait(); close(done) }()
	t := time.NewTimer(w.cfg.CloseTimeout)
	defer t.Stop()
	var err error
	select {
	case <-done:
	case <-t.C:
		err = ErrCloseTimeout
		w.cancelAll()
		<-done
	}
	w.cancelAll()
	if w.own != nil {
		w.own.CloseIdleConnections()
	}
	return err
}
