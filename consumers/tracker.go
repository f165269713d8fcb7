package consumers

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Tracker decides which offsets may be committed. Messages are fetched
// through it (Next), which records each before handing it out, and
// acknowledged (Ack) once what it produced — a prediction or a dead letter
// — was written. Acks may come in any order from any goroutine; per
// partition only the contiguous acknowledged prefix is committable, so a
// commit never passes an event that is still being processed.
//
// An event is in flight from Next until a commit has passed its offset:
// until it and every event tracked before it on its partition are
// acknowledged and that position is committed. Next blocks while
// maxInFlight events are in flight, which bounds both memory and the events
// redelivered after a crash (acknowledged but not yet committed events are
// redelivered too, so they count). Commits must therefore keep up: Ack wakes
// RunCommitter early once half the cap is committable.
//
// Generations: the Tracker follows the Reader's group generations. When a
// generation ends (a rebalance, the coordinator lost), the reader stops
// fetching and the Tracker waits, at most ReaderConfig.DrainTimeout, for
// every event it handed out to be acknowledged, then commits through the
// ending generation — the broker still takes its commits while the group
// prepares the rebalance — so a clean rebalance redelivers nothing. In the
// next generation a partition that stays with this member keeps its state
// when the group's committed offset is where this member last committed
// it: fetching resumes after the last offset tracked, events still in
// flight stay in flight, and nothing handed out is fetched again. Otherwise
// (a partition new to this member, or the group's position moved) the
// partition starts a new epoch at the group's committed offset. A
// partition not assigned any more is never committed by this member again.
// In no case does a commit pass an offset that was fetched and not
// resolved: it is fetched again (a new epoch starts at or before it), or
// still tracked, or passed by the group's own committed position.
//
// All methods are safe for concurrent use; Next is called by one goroutine.
type Tracker struct {
	r   *Reader // nil for a Tracker fed by track directly (tests)
	max int
	m   *Metrics

	mu          sync.Mutex
	inFlight    int           // tracked and not yet committed
	committable int           // of those, acknowledged and waiting for a commit
	wake        chan struct{} // non-nil while Next waits for room; closed when room appears
	commitNow   chan struct{} // signalled when committable reaches half the cap
	commitMu    sync.Mutex    // serialises Commit, which releases what it committed
	gen         uint64        // the generation whose messages are tracked
	live        bool          // gen is fetching: its messages are tracked
	parts       map[partKey]*partState
	lastKey     partKey // one-entry cache in front of parts: fetches come in runs per partition
	lastPart    *partState
	progress    time.Time // last commit that released events, or when in flight rose from 0

	// Next's batch being handed out; only the goroutine calling Next.
	cur batch
	pos int
}

type partKey struct {
	topic     string
	partition int
}

// NewTracker returns a Tracker that fetches through r and lets at most
// maxInFlight events be in flight (maxInFlight < 1 panics). It must be
// created before the first r.Fetch, and r must be fetched only through
// it; a Reader has at most one Tracker. m may be nil (metrics are then not
// registered anywhere).
func NewTracker(r *Reader, maxInFlight int, m *Metrics) *Tracker {
	if maxInFlight < 1 {
		panic("consumers: NewTracker: maxInFlight must be at least 1")
	}
	if r != nil && (r.tracker != nil || r.started.Load()) {
		panic("consumers: NewTracker: the reader already has a tracker or has started fetching")
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	t := &Tracker{r: r, max: maxInFlight, m: m, parts: make(map[partKey]*partState),
		commitNow: make(chan struct{}, 1), live: r == nil, progress: time.Now()}
	if r != nil {
		r.tracker = t
	}
	return t
}

// Next returns the next message fetched in the current generation, once it
// is tracked. It blocks while maxInFlight events are in flight, and
// returns ctx.Err() when ctx ends and ErrClosed once the reader is closed
// (the message it was about to hand out is then not tracked, and is fetched
// again by whoever reads the partition next); any other error is transient
// (the group could not be joined) and the caller may call Next again. Call
// it from one goroutine.
func (t *Tracker) Next(ctx context.Context) (kafka.Message, error) {
	for {
		if t.pos >= len(t.cur.msgs) {
			b, err := t.r.nextBatch(ctx)
			if err != nil {
				return kafka.Message{}, err
			}
			t.cur, t.pos = b, 0
		}
		ok, err := t.track(ctx, t.cur.seq, &t.cur.msgs[t.pos])
		if err != nil {
			return kafka.Message{}, err
		}
		if !ok { // fetched in a generation that has ended: fetched again if still ours
			t.cur = batch{}
			continue
		}
		t.pos++
		return t.cur.msgs[t.pos-1], nil
	}
}

// track records msg, fetched in generation seq, waiting for room first. It
// reports false, tracking nothing, when seq is not the generation being
// tracked.
func (t *Tracker) track(ctx context.Context, seq uint64, msg *kafka.Message) (bool, error) {
	t.mu.Lock()
	if err := t.waitRoom(ctx); err != nil {
		t.mu.Unlock()
		return false, err
	}
	if seq != t.gen || !t.live {
		t.mu.Unlock()
		return false, nil
	}
	p := t.lookup(msg.Topic, msg.Partition, true)
	if msg.Offset <= p.last {
		// Fetched again from lower down within a generation (the position
		// left the log and restarted at the configured start): start over.
		t.committable -= p.uncommitted
		t.release(p.reset(msg.Offset))
	}
	p.push(msg.Offset)
	if t.inFlight == 0 {
		t.progress = time.Now()
	}
	t.inFlight++
	t.mu.Unlock()
	t.m.consumed.Inc()
	t.m.inFlight.Inc()
	return true, nil
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

// Ack records that the given messages are done (what they produced was
// written); their slots are freed when a commit passes them, or at once for
// a partition no longer assigned here. An ack of an offset tracked again
// since (redelivered) counts for the new delivery: the record was
// processed, which is all a commit claims. Unknown offsets and repeated
// acks are ignored.
func (t *Tracker) Ack(msgs ...kafka.Message) {
	t.mu.Lock()
	released := 0
	for i := range msgs {
		p := t.lookup(msgs[i].Topic, msgs[i].Partition, false)
		if p == nil {
			continue
		}
		n := p.ack(msgs[i].Offset)
		if !p.assigned { // nothing to commit here: done once acknowledged
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

// Pending reports whether msg's offset is tracked and not yet acknowledged
// on a partition assigned to this member: whether writing its output still
// matters here. An output whose event is no longer pending may be dropped:
// its partition moved to another member or started over, and the record is
// fetched again wherever it is read next, or was passed by the group's
// committed position.
func (t *Tracker) Pending(msg kafka.Message) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.lookup(msg.Topic, msg.Partition, false)
	if p == nil || !p.assigned {
		return false
	}
	i := p.find(msg.Offset)
	return i >= 0 && !p.buf[(p.head+i)&(len(p.buf)-1)].acked
}

// Pause stops fetching the partition (events already fetched are still
// handed out); Resume starts it again. A worker pauses a partition whose
// output cannot be written, so that the others keep the in-flight room.
func (t *Tracker) Pause(topic string, partition int) { t.setPaused(topic, partition, true) }

// Resume undoes Pause.
func (t *Tracker) Resume(topic string, partition int) { t.setPaused(topic, partition, false) }

func (t *Tracker) setPaused(topic string, partition int, v bool) {
	t.mu.Lock()
	p := t.lookup(topic, partition, true)
	t.mu.Unlock()
	p.paused.Store(v)
}

// InFlight returns how many events are in flight: tracked and not yet
// committed.
func (t *Tracker) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inFlight
}

// Stalled reports whether events are in flight and no commit has released
// any for longer than d (since the last such commit, or since the first of
// them was tracked), and for how long.
func (t *Tracker) Stalled(d time.Duration) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	since := time.Since(t.progress)
	return t.inFlight > 0 && since > d, since
}

// release frees n slots and wakes a blocked Next. Called with t.mu held.
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
// t.mu held. A partition made here without a reader is assigned (tests
// feed a Tracker directly).
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
		p.assigned = t.r == nil
		t.parts[k] = p
	}
	t.lastKey, t.lastPart = k, p
	return p
}
