package consumers

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// partState is one partition's tracked offsets: a ring of entries in fetch
// (so offset) order, from the first one not yet committable to the last one
// fetched. Offsets may skip; they are stored, never assumed to be +1.
type partState struct {
	topic     string
	partition int

	buf  []entry // ring storage, length a power of two
	head int     // index in buf of the oldest entry
	n    int     // entries in the ring

	// An epoch is a run of tracking that starts at a known position: the
	// group's committed offset when the partition was assigned (or -1,
	// unknown: no offset committed yet), and ends when the partition is
	// revoked or the group's position turns out to have moved elsewhere.
	epoch uint64
	last  int64 // highest offset tracked in this epoch; start-1 (or -1) if none
	done  int64 // last offset of the contiguous acknowledged prefix; start-1 (or -1) if none
	// committed is the last offset committed in this epoch (the group's
	// position is committed+1), start-1 (or -1) if none.
	committed int64
	// uncommitted counts the entries dropped from the ring (acknowledged,
	// up to done) that no commit has passed yet.
	uncommitted int
	// unknownStart: the epoch began where no offset was committed, at the
	// configured start offset (earliest or latest).
	unknownStart bool
	// assigned: the partition is assigned to this member in generation gen,
	// so its acknowledged prefix may be committed.
	assigned bool
	gen      uint64
	// paused holds the partition's fetcher (Tracker.Pause); read by the
	// reader's fetcher without the Tracker's lock.
	paused atomic.Bool

	gauge prometheus.Gauge // sluice_committed_offset{topic,partition}
}

type entry struct {
	off   int64
	acked bool
}

func newPartState(topic string, partition int) *partState {
	return &partState{
		topic: topic, partition: partition,
		buf:  make([]entry, 16),
		last: -1, done: -1, committed: -1,
	}
}

// push appends off, which must be above p.last.
func (p *partState) push(off int64) {
	if p.n == len(p.buf) {
		p.grow()
	}
	p.buf[(p.head+p.n)&(len(p.buf)-1)] = entry{off: off}
	p.n++
	p.last = off
}

func (p *partState) grow() {
	nb := make([]entry, 2*len(p.buf))
	mask := len(p.buf) - 1
	for i := 0; i < p.n; i++ {
		nb[i] = p.buf[(p.head+i)&mask]
	}
	p.buf, p.head = nb, 0
}

// ack marks off acknowledged, then drops the acknowledged entries at the
// head, advancing done. It returns how many entries it dropped.
func (p *partState) ack(off int64) int {
	i := p.find(off)
	if i < 0 {
		return 0
	}
	mask := len(p.buf) - 1
	e := &p.buf[(p.head+i)&mask]
	if e.acked {
		return 0
	}
	e.acked = true
	if i != 0 {
		return 0
	}
	dropped := 0
	for p.n > 0 && p.buf[p.head].acked {
		p.done = p.buf[p.head].off
		p.head = (p.head + 1) & mask
		p.n--
		dropped++
	}
	return dropped
}

// find returns the ring position of off, or -1.
func (p *partState) find(off int64) int {
	mask := len(p.buf) - 1
	if p.n > 0 && p.buf[p.head].off == off { // in-order acks hit the head
		return 0
	}
	lo, hi := 0, p.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if p.buf[(p.head+mid)&mask].off < off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < p.n && p.buf[(p.head+lo)&mask].off == off {
		return lo
	}
	return -1
}

// reset starts a new epoch at the group's position start (-1: unknown),
// forgetting every tracked entry, and returns how many entries were in
// flight, committable or not.
func (p *partState) reset(start int64) int {
	n := p.n + p.uncommitted
	p.head, p.n, p.uncommitted = 0, 0, 0
	prev := max(start-1, -1)
	p.last, p.done, p.committed = prev, prev, prev
	p.unknownStart = start < 0
	p.epoch++
	return n
}

// next is where fetching continues in this epoch: after the last offset
// tracked, or at the epoch's start.
func (p *partState) next() int64 { return p.last + 1 }

// unacked reports whether an entry of the partition is not yet
// acknowledged (the ring holds only entries behind an unacknowledged head).
func (p *partState) unacked() bool { return p.n > 0 }
