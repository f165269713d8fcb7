package pipeline_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// The in-memory parts behind the pipeline's own interfaces, as watermill
// tests its router on gochannel: a source of per-partition queues that
// tracks acknowledgements and commits the contiguous acknowledged prefix,
// a sink that writes (or fails) each message in the order it was
// enqueued, and a decoder of records the test registered by value. Stage
// logic runs on them in milliseconds; the end-to-end tests run the same
// stages on Kafka, Redis and the schema registry.

// memSource is a pipeline.Source (with Pauser) over per-partition queues.
type memSource struct {
	topic string

	mu        sync.Mutex
	queues    map[int][]kafka.Message // not yet handed out, by partition
	handed    map[int][]int64         // handed out and not yet committed, in order
	acked     map[int]map[int64]bool
	committed map[int]int64 // next offset, as of the last commit
	paused    map[int]bool
	commits   int
	closed    bool
	wake      chan struct{} // closed and replaced when something changes
	rr        int           // round-robin over partitions
}

var (
	_ pipeline.Source = (*memSource)(nil)
	_ pipeline.Pauser = (*memSource)(nil)
)

func newMemSource(topic string) *memSource {
	return &memSource{topic: topic, queues: map[int][]kafka.Message{}, handed: map[int][]int64{},
		acked: map[int]map[int64]bool{}, committed: map[int]int64{}, paused: map[int]bool{}, wake: make(chan struct{})}
}

// add appends records to partition p, numbering their offsets.
func (s *memSource) add(p int, msgs ...kafka.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[p]
	next := int64(0)
	if len(q) > 0 {
		next = q[len(q)-1].Offset + 1
	} else if h := s.handed[p]; len(h) > 0 {
		next = h[len(h)-1] + 1
	} else {
		next = s.committed[p]
	}
	for _, m := range msgs {
		m.Topic, m.Partition, m.Offset = s.topic, p, next
		next++
		q = append(q, m)
	}
	s.queues[p] = q
	s.signal()
}

func (s *memSource) signal() { close(s.wake); s.wake = make(chan struct{}) }

func (s *memSource) Next(ctx context.Context) (kafka.Message, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return kafka.Message{}, consumers.ErrClosed
		}
		parts := make([]int, 0, len(s.queues))
		for p, q := range s.queues {
			if len(q) > 0 && !s.paused[p] {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			sort.Ints(parts)
			p := parts[s.rr%len(parts)]
			s.rr++
			m := s.queues[p][0]
			s.queues[p] = s.queues[p][1:]
			s.handed[p] = append(s.handed[p], m.Offset)
			s.mu.Unlock()
			return m, nil
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		case <-wake:
		}
	}
}

func (s *memSource) Ack(msgs ...kafka.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		if s.acked[m.Partition] == nil {
			s.acked[m.Partition] = map[int64]bool{}
		}
		s.acked[m.Partition][m.Offset] = true
	}
	s.signal()
}

func (s *memSource) Pending(m kafka.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.handed[m.Partition], m.Offset) && !s.acked[m.Partition][m.Offset]
}

func (s *memSource) Pause(topic string, p int)  { s.setPaused(p, true) }
func (s *memSource) Resume(topic string, p int) { s.setPaused(p, false) }

func (s *memSource) setPaused(p int, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused[p] = v
	s.signal()
}

// RunCommitter commits every interval and once more when ctx ends.
func (s *memSource) RunCommitter(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.commit()
			return nil
		case <-t.C:
			s.commit()
		}
	}
}

// commit moves each partition's position past its acknowledged prefix.
func (s *memSource) commit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	for p, h := range s.handed {
		n := 0
		for n < len(h) && s.acked[p][h[n]] {
			s.committed[p] = h[n] + 1
			n++
		}
		s.handed[p] = h[n:]
	}
	s.signal()
}

func (s *memSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.signal()
	return nil
}

// positions returns the committed positions, whether the source was closed
// and how many records were handed out and not committed.
func (s *memSource) positions() (map[int]int64, bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int64{}
	for p, off := range s.committed {
		out[p] = off
	}
	open := 0
	for _, h := range s.handed {
		open += len(h)
	}
	return out, s.closed, open
}

// waitFor waits until cond holds on the source's state, or fails the test.
func (s *memSource) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		ok, wake := cond(), s.wake
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// memSink is a pipeline.Sink that writes (or fails) messages one by one,
// in the order they were enqueued, on its own goroutine.
type memSink struct {
	done pipeline.Completion

	mu      sync.Mutex
	queue   []kafka.Message
	wake    chan struct{}
	closed  bool
	fail    func(kafka.Message) error // nil: every write succeeds
	limits  map[string]int64          // topic → the most bytes a message may take
	written []kafka.Message           // acknowledged, in order
	failed  int
	stopped chan struct{}
}

func openMemSink(s *memSink) pipeline.OpenSink {
	return func(done pipeline.Completion) (pipeline.Sink, error) {
		s.done, s.wake, s.stopped = done, make(chan struct{}, 1), make(chan struct{})
		if s.limits == nil {
			s.limits = map[string]int64{}
		}
		go s.run()
		return s, nil
	}
}

func (s *memSink) Enqueue(msgs ...kafka.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return producers.ErrClosed
	}
	for i := range msgs {
		if lim, ok := s.limits[msgs[i].Topic]; ok {
			if size := producers.MessageSize(&msgs[i]); size > lim {
				return &producers.TooLargeError{Index: i, Topic: msgs[i].Topic, Size: size, Limit: lim}
			}
		}
	}
	s.queue = append(s.queue, msgs...)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *memSink) run() {
	defer close(s.stopped)
	for {
		s.mu.Lock()
		msgs, closed, fail := s.queue, s.closed, s.fail
		s.queue = nil
		s.mu.Unlock()
		for _, m := range msgs {
			var err error
			if fail != nil {
				err = fail(m)
			}
			s.mu.Lock()
			if err == nil {
				s.written = append(s.written, m)
			} else {
				s.failed++
			}
			s.mu.Unlock()
			s.done([]kafka.Message{m}, err)
		}
		if closed && len(msgs) == 0 {
			return
		}
		if len(msgs) == 0 {
			<-s.wake
		}
	}
}

func (s *memSink) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.stopped
	return nil
}

func (s *memSink) setFail(f func(kafka.Message) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

// onTopic returns what was written to topic, in order.
func (s *memSink) onTopic(topic string) []kafka.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []kafka.Message
	for _, m := range s.written {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// memDecoder is a pipeline.Decoder of records registered by their value:
// the test keeps each record's fields under the bytes it sends. Values it
// was not given are undecodable (class decode); while unavailable is
// positive, that many calls fail as a registry that cannot be reached.
type memDecoder struct {
	names []string // one slice for every record: one writer schema

	mu          sync.Mutex
	recs        map[string][]any
	unavailable int
}

func newMemDecoder() *memDecoder { return &memDecoder{recs: map[string][]any{}} }

// record keeps rec (a demo event) and returns the value that decodes to it.
func (d *memDecoder) record(rec map[string]any) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.names == nil {
		for name := range rec {
			d.names = append(d.names, name)
		}
		sort.Strings(d.names)
	}
	vals := make([]any, len(d.names))
	for i, n := range d.names {
		vals[i] = rec[n]
	}
	v := rec["event_id"].(string)
	d.recs[v] = vals
	return []byte(v)
}

func (d *memDecoder) DecodeFields(ctx context.Context, framed []byte) (schemas.Fields, int32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unavailable > 0 {
		d.unavailable--
		return schemas.Fields{}, 0, schemas.ErrRegistryUnavailable
	}
	vals, ok := d.recs[string(framed)]
	if !ok {
		return schemas.Fields{}, 1, &schemas.DecodeError{Class: dlq.Decode, Err: errors.New("not a record the test made")}
	}
	return schemas.Fields{Names: d.names, Values: slices.Clone(vals)}, 1, nil
}

// memModel loads a demo-shaped model (random small weights, so scores
// differ by event) in ONNX Runtime.
func memModel(t *testing.T) *inference.Model {
	t.Helper()
	testworker.InitRuntime(t)
	sig := training.DemoSignature()
	r := rand.New(rand.NewPCG(1, 2))
	w := make([][]float32, sig.OutWidth())
	for i := range w {
		w[i] = make([]float32, sig.Width())
		for j := range w[i] {
			w[i][j] = float32(r.NormFloat64() * 0.01)
		}
	}
	mlp := &training.MLP{Layers: []training.Dense{{W: w, B: make([]float32, sig.OutWidth())}}, Output: training.OutputSoftmax}
	onnx, err := training.WriteONNX(mlp, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		t.Fatal(err)
	}
	m, err := inference.LoadModel("fraud", "1", onnx, sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1, Sessions: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// memWorker is a pipeline.Worker on the in-memory parts.
type memWorker struct {
	w    *pipeline.Worker
	src  *memSource
	sink *memSink
	dec  *memDecoder
	gen  *demo.Generator
	reg  *prometheus.Registry
	stop func() error
}

// startMem runs a worker with cfg on the in-memory parts until the test
// ends (or stop).
func startMem(t *testing.T, cfg pipeline.Config, sink *memSink) *memWorker {
	t.Helper()
	return startMemWith(t, cfg, sink, nil, nil)
}

// startMemWith is startMem with the side effects o and k (either may be nil).
func startMemWith(t *testing.T, cfg pipeline.Config, sink *memSink, o pipeline.Observer, k pipeline.Keeper) *memWorker {
	t.Helper()
	cfg = cfg.WithDefaults()
	m := &memWorker{src: newMemSource(cfg.InputTopic), sink: sink, dec: newMemDecoder(), gen: demo.NewGenerator(3, demo.WithCards(8)),
		reg: prometheus.NewRegistry()}
	w, err := pipeline.New(cfg, pipeline.Deps{
		Source: m.src, Sink: openMemSink(sink), Decoder: m.dec, PredictionSchemaID: 2,
		Models: pipeline.NewStaticModel(memModel(t)), Metrics: pipeline.NewMetrics(m.reg),
		Observer: o, Keeper: k,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	m.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	m.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("the worker did not stop within 30s")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := m.stop(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// publish adds n demo events to partition p, keyed by their entity, and
// returns them in order.
func (m *memWorker) publish(p, n int) []map[string]any {
	recs := make([]map[string]any, n)
	msgs := make([]kafka.Message, n)
	for i := range recs {
		recs[i] = m.gen.Next()
		msgs[i] = kafka.Message{Key: []byte(recs[i]["entity_id"].(string)), Value: m.dec.record(recs[i])}
	}
	m.src.add(p, msgs...)
	return recs
}
