package producers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
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

	mu      sync.Mutex
	closed  bool
	topics  map[string]*topicInfo
	parts   map[partKey]*partQueue
	running sync.WaitGroup // one per partition with a request in flight
}

// topicInfo is a topic's partition list, read from the cluster's metadata.
type topicInfo struct {
	partitions []int
	read       time.Time
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

// metadataTTL is how long a topic's partition count is used before it is
// read again (new partitions are picked up this late).
const metadataTTL = 30 * time.Second

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
// enqueued (a topic's metadata could not be read, a message is larger
// than BatchBytes, a message names no topic, or the writer is closed).
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
		if size := messageSize(m); size > w.cfg.BatchBytes-batchOverhead {
			return fmt.Errorf("enqueueing %d messages: %w: message %d is %d bytes, batch_bytes is %d",
				len(msgs), kafka.MessageSizeTooLarge, i, size, w.cfg.BatchBytes)
		}
		if last == nil || topic != keys[i-1].topic {
			ti, err := w.topic(topic)
			if err != nil {
				return fmt.Errorf("enqueueing %d messages: %w", len(msgs), err)
			}
			last = ti
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

// topic returns topic's partitions, from the cache while it is fresh.
func (w *AsyncWriter) topic(topic string) (*topicInfo, error) {
	w.mu.Lock()
	ti := w.topics[topic]
	w.mu.Unlock()
	if ti != nil && time.Since(ti.read) < metadataTTL {
		return ti, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.WriteTimeout)
	defer cancel()
	res, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err == nil {
		err = kafka.UnknownTopicOrPartition
		for _, t := range res.Topics {
			if t.Name != topic {
				continue
			}
			if err = t.Error; err == nil && len(t.Partitions) == 0 {
				err = kafka.UnknownTopicOrPartition
			}
			if err == nil {
				ids := make([]int, len(t.Partitions))
				for i, p := range t.Partitions {
					ids[i] = p.ID
				}
				slices.Sort(ids)
				ti = &topicInfo{partitions: ids, read: time.Now()}
			}
		}
	}
	if err != nil {
		if ti != nil { // stale but usable: the cluster is briefly unreachable
			return ti, nil
		}
		return nil, fmt.Errorf("reading metadata of topic %s: %w", topic, err)
	}
	w.mu.Lock()
	w.topics[topic] = ti
	w.mu.Unlock()
	return ti, nil
}

// send writes q's messages, one request at a time, until none are waiting.
func (w *AsyncWriter) send(key partKey, q *partQueue) {
	defer w.running.Done()
	for {
		w.mu.Lock()
		batch := w.take(q)
		if len(batch) == 0 {
			q.busy = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		err := w.produce(key, batch)
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
// messages in a record batch of at most BatchBytes (at least one message).
// w.mu is held.
func (w *AsyncWriter) take(q *partQueue) []kafka.Message {
	n, bytes := 0, int64(batchOverhead)
	for n < len(q.pending) && n < w.cfg.BatchSize {
		size := messageSize(&q.pending[n])
		if n > 0 && bytes+size > w.cfg.BatchBytes {
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

// produce sends one request, retrying errors that may pass (a leader
// moving, a broker restarting) with backoff.
func (w *AsyncWriter) produce(key partKey, batch []kafka.Message) error {
	var err error
	for attempt := 0; attempt < produceAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(min(time.Duration(attempt*attempt)*100*time.Millisecond, time.Second))
		}
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.WriteTimeout)
		var res *kafka.ProduceResponse
		res, err = w.client.Produce(ctx, &kafka.ProduceRequest{
			Topic:        key.topic,
			Partition:    key.partition,
			RequiredAcks: kafka.RequireAll,
			Compression:  w.comp,
			Records:      &messageRecords{msgs: batch},
		})
		cancel()
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

// messageSize is the most bytes a message takes in a record batch, as
// batch_bytes counts it.
func messageSize(m *kafka.Message) int64 {
	n := int64(len(m.Key)+len(m.Value)) + recordOverhead
	for _, h := range m.Headers {
		n += int64(len(h.Key)+len(h.Value)) + headerOverhead
	}
	return n
}

// Close sends what is waiting and waits, at most WriterConfig.CloseTimeout,
// until every completion has run. Enqueue fails with ErrClosed afterwards.
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
	}
	if w.own != nil {
		w.own.CloseIdleConnections()
	}
	return err
}
