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
// An event is in flight from Track until a commit has passed its offset:
// until it and every event tracked before it on its partition are
// acknowledged and that position is committed. Track blocks while
// maxInFlight events are in flight, which bounds both memory and the events
// redelivered after a crash (acknowledged but not yet committed events are
// redelivered too, so they count). Commits must therefore keep up: Ack wakes
// RunCommitter early once half the cap is committable, and a Tracker that
// nobody commits for stops taking events at the cap.
//
// Rebalances: when Track sees an offset at or below the highest one tracked
// on that partition, the group has redelivered from the committed offset
// (the partition was revoked and assigned again, or a reader restarted): the
// partition's state is dropped and tracking starts over from that offset.
// Acks for dropped offsets are ignored, or, if the same offset was tracked
// again, count for it (the event was processed, which is all a commit
// claims).
//
// A partition revoked for good must not be committed any more: its new
// owner starts from the committed offset and commits past it, and a late
// commit from the old owner would move the group's offset backwards. So
// every partition is fenced when the group moves to a new generation
// (Reader.Generation; the fetcher says which generation it fetches in with
// Fence, and Commit looks at the Reader's): its commits are held back until
// Track sees a message of it fetched in the new generation, which proves it
// is still assigned here; tracking then starts over from that message.
// A fenced partition's events leave the in-flight count once acknowledged,
// as there is nothing this member may commit for them. A Tracker that is
// never fenced commits every partition it tracked.
//
// All methods are safe for concurrent use.
type Tracker struct {
	max int
	m   *Metrics

	mu          sync.Mutex
	inFlight    int           // tracked and not yet committed
	committable int           // of those, acknowledged and waiting for a commit
	wake        chan struct{} // non-nil while Track waits for room; closed when room appears
	commitNow   chan struct{} // signalled when committable reaches half the cap
	commitMu    sync.Mutex    // serialises Commit, which releases what it committed
	generation  uint64        // newest group generation seen; 0: fencing not in use
	fetchGen    uint64        // generation the messages now being tracked were fetched in
	parts       map[partKey]*partState
	lastKey     partKey // one-entry cache in front of parts: fetches come in runs per partition
	lastPart    *partState
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
	return &Tracker{max: maxInFlight, m: m, parts: make(map[partKey]*partState), commitNow: make(chan struct{}, 1)}
}

// WaitForRoom blocks until fewer than maxInFlight events are in flight, or
// ctx ends (it then returns ctx.Err()). A single fetcher that waits for room
// before it fetches never holds a message that Track would block on: a
// message fetched but not yet tracked would be redelivered after a crash
// too, beyond the cap.
func (t *Tracker) WaitForRoom(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waitRoom(ctx)
}

// waitRoom waits for a free slot. Called with t.mu held; it holds t.mu
// again when it returns.
func (t *Tracker) waitRoom(ctx context.Context) error {
	for t.inFlight >= t.max {
		if t.wake == nil {
			t.wake = make(chan struct{})
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			t.mu.Lock()
			return ctx.Err()
		}
		t.mu.Lock()
	}
	return nil
}

// Track records that msg was fetched and is about to be processed. Messages
// of one partition must be tracked in the order they were fetched. Track
// blocks while the tracker is full and returns ctx.Err() if ctx ends first
// (msg is then not tracked).
func (t *Tracker) Track(ctx context.Context, msg kafka.Message) error {
	t.mu.Lock()
	if err := t.waitRoom(ctx); err != nil {
		t.mu.Unlock()
		return err
	}
	p := t.lookup(msg.Topic, msg.Partition, true)
	current := t.fetchGen == t.generation
	// A redelivered offset, or the first message of a fenced partition in
	// the new generation (which starts where the group committed, perhaps
	// past what this member knew): start the partition over.
	if msg.Offset <= p.last || (p.fenced && current) {
		t.committable -= p.uncommitted
		t.release(p.reset())
	}
	if current {
		p.fenced = false // fetched in the current generation: assigned here
	}
	p.push(msg.Offset)
	t.inFlight++
	t.mu.Unlock()
	t.m.consumed.Inc()
	t.m.inFlight.Inc()
	return nil
}

// Ack records that the given messages are done; their slots are freed when
// a commit passes them. Unknown offsets and repeated acks are ignored.
func (t *Tracker) Ack(msgs ...kafka.Message) {
	t.mu.Lock()
	released := 0
	for i := range msgs {
		p := t.lookup(msgs[i].Topic, msgs[i].Partition, false)
		if p == nil {
			continue
		}
		n := p.ack(msgs[i].Offset)
		if p.fenced { // nothing to commit here: done once acknowledged
			released += n
			continue
		}
		p.uncommitted += n
		t.committable += n
	}
	t.release(released)
	if t.committable > 0 && t.committable >= (t.max+1)/2 {
		select {
		case t.commitNow <- struct{}{}:
		default:
		}
	}
	t.mu.Unlock()
}

// InFlight returns how many events are in flight: tracked and not yet
// committed.
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
