package consumers

import (
	"context"
	"fmt"
	"time"
)

const (
	// commitTimeout bounds one periodic commit: long enough to ride out a
	// slow broker, short enough that a stuck one is retried with a newer
	// position.
	commitTimeout = 10 * time.Second
	// finalCommitTimeout bounds the commit RunCommitter makes on its way out.
	finalCommitTimeout = 5 * time.Second
)

type commitMark struct {
	p     *partState
	epoch uint64
	off   int64
	n     int // entries up to off that this commit releases
}

// Commit commits, for every partition assigned in the reader's current
// generation whose contiguous acknowledged prefix moved since the last
// successful commit, the offset after that prefix, through that
// generation. Between generations it commits nothing and returns nil. On
// failure nothing is marked committed, so the next call retries with the
// then-latest prefix; failures are expected and transient (a broker
// restart, a rebalance in progress) and the caller should simply call again
// later. A successful commit frees the in-flight slots of the events it
// passed. Safe for concurrent use (commits are serialised), though one
// committer (RunCommitter) is the norm.
func (t *Tracker) Commit(ctx context.Context) error {
	t.commitMu.Lock()
	defer t.commitMu.Unlock()
	g := t.r.current()
	if g == nil {
		return nil
	}
	offsets, marks := t.snapshot(g.seq)
	if len(offsets) == 0 {
		return nil
	}
	if err := t.r.commitOffsets(ctx, g, offsets); err != nil {
		t.m.commitErrors.Inc()
		return err
	}
	t.m.commits.Inc()
	t.markCommitted(marks)
	return nil
}

// snapshot returns, for every partition assigned in generation seq whose
// contiguous acknowledged prefix moved past its last commit, the offset to
// commit (the next to read) and its mark.
func (t *Tracker) snapshot(seq uint64) (map[int]int64, []commitMark) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var offsets map[int]int64
	var marks []commitMark
	for _, p := range t.parts {
		if p.assigned && p.gen == seq && p.done > p.committed {
			if offsets == nil {
				offsets = map[int]int64{}
			}
			offsets[p.partition] = p.done + 1
			marks = append(marks, commitMark{p: p, epoch: p.epoch, off: p.done, n: p.uncommitted})
		}
	}
	return offsets, marks
}

// markCommitted records a successful commit of marks and frees the slots
// of the events it passed. Marks of a partition that started a new epoch
// since are ignored (the reset freed its slots).
func (t *Tracker) markCommitted(marks []commitMark) {
	t.mu.Lock()
	defer t.mu.Unlock()
	released := 0
	for _, mk := range marks {
		if mk.p.epoch == mk.epoch && mk.off > mk.p.committed {
			mk.p.committed = mk.off
			mk.p.gauge.Set(float64(mk.off + 1))
			mk.p.uncommitted -= mk.n
			t.committable -= mk.n
			released += mk.n
		}
	}
	if released > 0 {
		t.progress = time.Now()
	}
	t.release(released)
}

// RunCommitter commits every interval, and sooner when half the in-flight
// cap is waiting for a commit, until ctx ends; then it commits once more
// under a fresh deadline of a few seconds, so that what was acknowledged
// during shutdown is not redelivered. Failed periodic commits are counted
// (sluice_commit_errors_total), logged once per run of failures with the
// reader's logger, and retried on the next tick; they never end the loop.
// It returns nil, or the final commit's error.
//
// To lose as little as possible on shutdown, stop fetching, wait for
// InFlight to drain, then cancel ctx, and close the Reader after
// RunCommitter returned.
func (t *Tracker) RunCommitter(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("running committer: interval %v is not positive", every)
	}
	log := t.r.log
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := 0
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), finalCommitTimeout)
			defer cancel()
			if err := t.Commit(fctx); err != nil {
				return fmt.Errorf("final commit: %w", err)
			}
			return nil
		case <-tick.C:
		case <-t.commitNow:
			if failing > 0 {
				continue // failing: retry on the next tick, not on every ack
			}
		}
		cctx, cancel := context.WithTimeout(ctx, commitTimeout)
		err := t.Commit(cctx)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			// Shutting down: the final commit retries.
		case err != nil:
			if failing == 0 {
				log.Warn("offset commit failed; retrying", "err", err)
			}
			failing++
		case failing > 0:
			log.Info("offset commits recovered", "failed", failing)
			failing = 0
		}
	}
}
