package consumers

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

// assign starts generation seq with the partitions of topic assigned to
// this member (pas, each with the group's committed offset, or kafka's
// FirstOffset/LastOffset where none is committed) and returns, in the same
// order, where each is to be fetched from. Called by the reader before it
// fetches anything of seq.
//
// A partition that stays with this member keeps its epoch when the group's
// committed offset is exactly where this member last committed it, or
// when neither the group nor this member has committed it yet (its own
// commits are the only ones there could have been): it is fetched from
// after the last offset tracked. Any other committed offset starts a new
// epoch there. A
// partition no longer assigned ends its epoch; what it had in flight
// leaves the count (nothing may be committed for it here any more).
func (t *Tracker) assign(seq uint64, topic string, pas []kafka.PartitionAssignment) []partStart {
	t.mu.Lock()
	defer t.mu.Unlock()
	released := 0
	for k, p := range t.parts {
		if k.topic != topic || !p.assigned || assignedIn(pas, k.partition) {
			continue
		}
		t.committable -= p.uncommitted
		released += p.reset(-1)
		p.assigned, p.gen = false, 0
		p.paused.Store(false)
	}
	out := make([]partStart, len(pas))
	for i, pa := range pas {
		p := t.lookup(topic, pa.ID, true)
		at := pa.Offset
		switch {
		case p.assigned && at >= 0 && at == p.committed+1:
			at = p.next() // carried over: nothing handed out is fetched again
		case p.assigned && at < 0 && p.unknownStart && p.committed < 0:
			if p.last >= 0 { // carried over; with nothing fetched, start as configured
				at = p.next()
			}
		default:
			t.committable -= p.uncommitted
			released += p.reset(at)
		}
		p.assigned, p.gen = true, seq
		out[i] = partStart{offset: at, paused: &p.paused}
	}
	t.gen, t.live = seq, true
	t.release(released)
	return out
}

func assignedIn(pas []kafka.PartitionAssignment, partition int) bool {
	for _, pa := range pas {
		if pa.ID == partition {
			return true
		}
	}
	return false
}

// endGeneration is called by the reader once generation seq's fetchers have
// stopped. Messages of seq not yet handed out are dropped (Next skips
// them). With drain, it waits, at most ReaderConfig.DrainTimeout, until
// every event of the generation's partitions is acknowledged; then it
// commits what is committable, through seq, which the broker still takes
// while the group prepares the rebalance.
func (t *Tracker) endGeneration(seq uint64, drain bool) {
	t.mu.Lock()
	if t.gen == seq {
		t.live = false
	}
	t.mu.Unlock()
	if drain {
		deadline := time.Now().Add(t.r.cfg.DrainTimeout)
		for t.unresolved(seq) && time.Now().Before(deadline) && t.r.ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalCommitTimeout)
	defer cancel()
	if err := t.Commit(ctx); err != nil {
		t.r.log.Info("commit at the end of a generation failed; what it held is fetched again", "err", err)
	}
}

// unresolved reports whether a partition assigned in seq has an event not
// yet acknowledged.
func (t *Tracker) unresolved(seq uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.parts {
		if p.assigned && p.gen == seq && p.unacked() {
			return true
		}
	}
	return false
}
