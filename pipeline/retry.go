package pipeline

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/backoff"
	"github.com/sluice-ml/sluice/producers"
)

// retrier holds the outputs the writer gave up on and writes them again,
// with backoff, for as long as they matter: until they are written, or
// their event is no longer pending (its partition moved to another member
// or started over, so the record is fetched again there). An output that
// fails WriteRetries more times makes its input partition stuck: the
// partition is paused, its offset is never committed past (the event stays
// unacknowledged), the worker reports not ready, one log line and
// sluice_partition_stuck{topic,partition} name the offset; the output keeps
// being retried, and the partition resumes when every stuck output of it
// is written. Nothing is ever dropped for want of room: the queue holds at
// most what is in flight. Safe for concurrent use.
type retrier struct {
	w *Worker

	mu    sync.Mutex
	queue []kafka.Message // WriterData: *retryData
	wake  chan struct{}   // capacity 1
	stuck map[int]*stuckPart
}

// retryBackoff is the wait before writing again outputs that failed n
// times.
var retryBackoff = backoff.Policy{First: 100 * time.Millisecond, Max: 5 * time.Second}

// retryData replaces an output's WriterData once it has failed.
type retryData struct {
	ev    *event // nil: a shadow prediction, which decides nothing
	tries int    // failed writes
	stuck bool   // counted in its partition's stuckPart
}

// stuckPart is one input partition with outputs past the retry bound.
type stuckPart struct {
	offsets map[int64]int // stuck outputs by input offset
	since   time.Time
	output  string // the topic the first stuck output goes to
	err     error  // its last error
}

func newRetrier(w *Worker) *retrier {
	return &retrier{w: w, wake: make(chan struct{}, 1), stuck: map[int]*stuckPart{}}
}

// failed takes outputs the writer gave up on (or could not take) with err.
func (r *retrier) failed(msgs []kafka.Message, err error) {
	if errors.Is(err, producers.ErrClosed) {
		return // shutting down: left unacknowledged, fetched again later
	}
	r.mu.Lock()
	for i := range msgs {
		m := msgs[i]
		m.Partition, m.Offset = 0, 0
		d, ok := m.WriterData.(*retryData)
		if !ok {
			d = &retryData{ev: eventOf(m.WriterData)}
			m.WriterData = d
		}
		d.tries++
		switch {
		case d.ev == nil && d.tries > r.w.cfg.WriteRetries:
			r.w.deps.Metrics.shadowErrors.Inc()
			continue
		case d.ev != nil && d.tries > r.w.cfg.WriteRetries:
			r.stick(d, m.Topic, err)
		}
		r.queue = append(r.queue, m)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// written is called for each retried output once the broker acknowledged
// it.
func (r *retrier) written(d *retryData) {
	if !d.stuck {
		return
	}
	r.mu.Lock()
	r.unstick(d, "written")
	r.mu.Unlock()
}

// run writes again what failed, until ctx ends.
func (r *retrier) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		}
		for {
			msgs, tries := r.take()
			if len(msgs) == 0 {
				break
			}
			if !backoff.Sleep(ctx, retryBackoff.Delay(tries)) {
				return nil
			}
			if msgs = r.stillPending(msgs); len(msgs) > 0 {
				r.w.deps.Metrics.produceRetry.Add(float64(len(msgs)))
				r.w.enqueue(msgs)
			}
		}
	}
}

// take empties the queue and returns it with the fewest failures of its
// outputs (which sets the backoff).
func (r *retrier) take() ([]kafka.Message, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.queue
	r.queue = nil
	tries := 0
	for i := range msgs {
		if d := msgs[i].WriterData.(*retryData); tries == 0 || d.tries < tries {
			tries = d.tries
		}
	}
	return msgs, tries
}

// stillPending drops the outputs whose events no longer wait for them.
func (r *retrier) stillPending(msgs []kafka.Message) []kafka.Message {
	keep := msgs[:0]
	for _, m := range msgs {
		d := m.WriterData.(*retryData)
		if d.ev == nil || r.w.source.Pending(d.ev.msg) {
			keep = append(keep, m)
			continue
		}
		if d.stuck {
			r.mu.Lock()
			r.unstick(d, "no longer pending here")
			r.mu.Unlock()
		}
	}
	return keep
}

// stick counts d as stuck; the first stuck output of a partition pauses
// it. Called with r.mu held.
func (r *retrier) stick(d *retryData, topic string, err error) {
	p, off := d.ev.msg.Partition, d.ev.msg.Offset
	sp := r.stuck[p]
	if sp == nil {
		sp = &stuckPart{offsets: map[int64]int{}, since: time.Now(), output: topic}
		r.stuck[p] = sp
		if ps, ok := r.w.source.(Pauser); ok {
			ps.Pause(r.w.cfg.InputTopic, p)
		}
		r.w.log.Error("partition stuck: an output cannot be written; its offset is not committed past and the partition is paused until the write succeeds",
			"topic", r.w.cfg.InputTopic, "partition", p, "offset", off, "output_topic", topic, "attempts", d.tries, "err", err)
	}
	sp.err = err
	if !d.stuck {
		d.stuck = true
		sp.offsets[off]++
	}
	r.w.deps.Metrics.partitionStuck.WithLabelValues(r.w.cfg.InputTopic, strconv.Itoa(p)).Set(float64(sp.first()))
}

// unstick uncounts d; the partition resumes with its last stuck output.
// Called with r.mu held.
func (r *retrier) unstick(d *retryData, why string) {
	d.stuck = false
	p, off := d.ev.msg.Partition, d.ev.msg.Offset
	sp := r.stuck[p]
	if sp == nil {
		return
	}
	if sp.offsets[off]--; sp.offsets[off] <= 0 {
		delete(sp.offsets, off)
	}
	label := []string{r.w.cfg.InputTopic, strconv.Itoa(p)}
	if len(sp.offsets) > 0 {
		r.w.deps.Metrics.partitionStuck.WithLabelValues(label...).Set(float64(sp.first()))
		return
	}
	delete(r.stuck, p)
	r.w.deps.Metrics.partitionStuck.DeleteLabelValues(label...)
	if ps, ok := r.w.source.(Pauser); ok {
		ps.Resume(r.w.cfg.InputTopic, p)
	}
	r.w.log.Info("partition resumed: its stuck outputs are written or no longer needed here",
		"topic", r.w.cfg.InputTopic, "partition", p, "offset", off, "stuck_for", time.Since(sp.since).Round(time.Millisecond), "why", why)
}

func (sp *stuckPart) first() int64 {
	first := int64(-1)
	for off := range sp.offsets {
		if first < 0 || off < first {
			first = off
		}
	}
	return first
}

// StuckPartition is an input partition whose output cannot be written.
type StuckPartition struct {
	Topic     string
	Partition int
	Offset    int64  // the lowest offset waiting for its output
	Output    string // the topic the output goes to
	Since     time.Time
	Err       error // the last write error
}

// Stuck returns the input partitions stuck now, by partition. Safe for
// concurrent use.
func (w *Worker) Stuck() []StuckPartition {
	r := w.retries
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]StuckPartition, 0, len(r.stuck))
	for p, sp := range r.stuck {
		out = append(out, StuckPartition{Topic: w.cfg.InputTopic, Partition: p, Offset: sp.first(),
			Output: sp.output, Since: sp.since, Err: sp.err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out
}

// eventOf returns the event an output belongs to, nil for one that has
// none (a shadow prediction).
func eventOf(data any) *event {
	switch d := data.(type) {
	case *event:
		return d
	case *retryData:
		return d.ev
	}
	return nil
}
