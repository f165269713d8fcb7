package consumers

import (
	"context"
	"strconv"
	"sync"

	"github.com/segmentio/kafka-go"
)

// Tracker decides which offsets may be committed. Each fetched message is
// tracked (Track) before it is handed on, and acknowledged (Ack) once what
// it produced — a prediction or a dead letter — was written. Acks may come
// in any order from any goroutine; per partition only the contiguous
// acknowledged prefix is committable, so a commit never passes an event that
// is still being processed.
//
// An event is in flight from Track until it and every event tracked before
// it on its partition are acknowledged. Track blocks while maxInFlight
// events are in flight, which bounds both memory and the events redelivered
// after a crash.
//
// Rebalances: kafka-go hides consumer-group generations, so the Tracker
// learns of a reassigned partition only from its offsets. When Track sees an
// offset at or below the highest one tracked on that partition, the group
// has redelivered from the committed offset (the partition was revoked and
// assigned again, or a reader restarted): the partition's state is dropped
// and tracking starts over from that offset. Acks for dropped offsets are
// ignored, or, if the same offset was tracked again, count for it (the event
// was processed, which is all a commit claims). A partition revoked for good
// keeps its state; whatever of it is acknowledged later is still committed,
// which may move the group's offset back below what the new owner committed
// — more redelivery, never a lost event.
//
// All methods are safe for concurrent use.
type Tracker struct {
	max int
	m   *Metrics

	mu       sync.Mutex
	inFlight int
	wake     chan struct{} // non-nil while Track waits for room; closed when room appears
	parts    map[partKey]*partState
	lastKey  partKey // one-entry cache in front of parts: fetches come in runs per partition
	lastPart *partState
}

type partKey struct {
	topic     string
	partition int
}

// NewTracker returns a Tracker that lets at most maxInFlight events be in
// flight (maxInFlight < 1 panics). m may be nil (metrics are then not
// registered anywhere).
func NewTracker(maxInFlight int, m *Metrics) *Tracker {
	if maxInFlight < 1 {
		panic("consumers: NewTracker: maxInFlight must be at least 1")
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Tracker{max: maxInFlight, m: m, parts: make(map[partKey]*partState)}
}

// Track records that msg was fetched and is about to be processed. Messages
// of one partition must be tracked in the order they were fetched. Track
// blocks while the tracker is full and returns ctx.Err() if ctx ends first
// (msg is then not tracked).
func (t *Tracker) Track(ctx context.Context, msg kafka.Message) error {
	t.mu.Lock()
	for t.inFlight >= t.max {
		if t.wake == nil {
			t.wake = make(chan struct{})
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
		t.mu.Lock()
	}
	p := t.lookup(msg.Topic, msg.Partition, true)
	if msg.Offset <= p.last {
		t.release(p.reset())
	}
	p.push(msg.Offset)
	t.inFlight++
	t.mu.Unlock()
	t.m.consumed.Inc()
	t.m.inFlight.Inc()
	return nil
}

// Ack records that the given messages are done. Unknown offsets and
// repeated acks are ignored.
func (t *Tracker) Ack(msgs ...kafka.Message) {
	t.mu.Lock()
	released := 0
	for i := range msgs {
		if p := t.lookup(msgs[i].Topic, msgs[i].Partition, false); p != nil {
			released += p.ack(msgs[i].Offset)
		}
	}
	t.release(released)
	t.mu.Unlock()
}

// InFlight returns how many events are in flight: tracked and not yet
// committable.
func (t *Tracker) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inFlight
}

// release frees n slots and wakes a blocked Track. Called with t.mu held.
func (t *Tracker) release(n int) {
	if n == 0 {
		return
	}
	t.inFlight -= n
	t.m.inFlight.Sub(float64(n))
	if t.wake != nil && t.inFlight < t.max {
		close(t.wake)
		t.wake = nil
	}
}

// lookup finds (or, with create, makes) a partition's state. Called with
// t.mu held.
func (t *Tracker) lookup(topic string, partition int, create bool) *partState {
	k := partKey{topic, partition}
	if t.lastPart != nil && t.lastKey == k {
		return t.lastPart
	}
	p := t.parts[k]
	if p == nil {
		if !create {
			return nil
		}
		p = newPartState(topic, partition)
		p.gauge = t.m.committed.WithLabelValues(topic, strconv.Itoa(partition))
		t.parts[k] = p
	}
	t.lastKey, t.lastPart = k, p
	return p
}
