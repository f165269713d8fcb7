package consumers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/backoff"
)

// Commits go through the generation they were decided in
// (kafka.Generation.CommitOffsets carries its generation id and member id):
// once the group has moved on, the broker refuses them (ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID) rather than letting a late commit move a partition
// that another member now owns. While the group prepares a rebalance the
// broker still takes the old generation's commits, which is when a Tracker
// drains and commits what it handed out before the member rejoins.

// errNoGeneration is returned by Commit while the reader is not a member of
// a current generation (before the first join, during a rebalance).
var errNoGeneration = errors.New("consumers: not a member of a current generation of the group")

// commitAttempts is how often a commit is tried on a retriable error, with
// commitBackoff (100ms, then 200ms) between tries.
const commitAttempts = 3

var commitBackoff = backoff.Policy{First: 100 * time.Millisecond, Max: time.Second}

// Commit commits, for each partition assigned to this member in the current
// generation, the offset after the highest message given for it, and
// blocks until the broker answered or ctx ended. Messages of partitions
// not assigned now, or below where the generation started, are left out
// (committing them could move another member's position back). It returns
// ErrClosed once the reader is closed. A reader with a Tracker commits
// through Tracker.Commit instead.
func (r *Reader) Commit(ctx context.Context, msgs ...kafka.Message) error {
	if r.isClosed() {
		return ErrClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	g := r.current()
	if g == nil {
		return errNoGeneration
	}
	offsets := map[int]int64{}
	for _, m := range msgs {
		a := g.part(m.Partition)
		if m.Topic != r.topic || a == nil || m.Offset+1 < a.committed.Load() {
			continue
		}
		offsets[m.Partition] = max(offsets[m.Partition], m.Offset+1)
	}
	if len(offsets) == 0 {
		return nil
	}
	return r.commitOffsets(ctx, g, offsets)
}

// commitOffsets commits offsets (partition → next offset to read) in
// generation g, trying again on a retriable error, and records them as the
// group's position for consumer lag.
func (r *Reader) commitOffsets(ctx context.Context, g *genState, offsets map[int]int64) error {
	req := map[string]map[int]int64{r.topic: offsets}
	var err error
	for attempt := 0; attempt < commitAttempts; attempt++ {
		if attempt > 0 && !backoff.Sleep(ctx, commitBackoff.Delay(attempt)) {
			break
		}
		if err = g.kg.CommitOffsets(req); err == nil || !retriable(err) {
			break
		}
	}
	if err != nil {
		if r.isClosed() {
			return ErrClosed
		}
		return fmt.Errorf("committing offsets in generation %d: %w", g.kg.ID, err)
	}
	r.health.contact()
	for p, off := range offsets {
		if a := g.part(p); a != nil {
			a.committed.Store(off)
		}
	}
	return nil
}

// isClosed reports whether Close has finished stopping the reader.
func (r *Reader) isClosed() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// retriable: a broker error kafka-go calls temporary, or a network error.
func retriable(err error) bool {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}
