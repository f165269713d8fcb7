package consumers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
)

// Commits carry the group generation they were decided in.
//
// kafka-go's CommitMessages queues a request for its commit loop, which
// runs once per generation: a request queued while the group rebalances is
// sent by the next generation's loop, stamped with the new generation, so
// the broker takes it even if the partition has moved to another member
// meanwhile, and the group's offset can move back below what the new owner
// committed. So the Reader sends its own OffsetCommit requests, stamped with
// the generation (and member id) that the Tracker fenced its partitions
// against: once the group has moved on, the broker refuses them
// (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID) and the
// Tracker tries again with the latest position in the generation after.

// groupGen is one generation in which the Reader was assigned partitions.
type groupGen struct {
	seq    uint64 // Reader.Generation
	id     int32  // the coordinator's generation id
	member string
}

// errNoGeneration is returned by commits before the reader first joined.
var errNoGeneration = errors.New("consumers: not a member of the group yet")

// commitAttempts is how often a commit is tried on a retriable error, with
// 100ms, then 200ms between tries (kafka-go's own commit does the same).
const commitAttempts = 3

// joinedGeneration records the member id and generation id kafka-go logged
// on joining ("joined group %s as member %s in generation %d").
func (r *Reader) joinedGeneration(args []any) {
	if len(args) < 3 {
		return
	}
	member, _ := args[1].(string)
	id, _ := args[2].(int32)
	r.genMu.Lock()
	r.pending = groupGen{id: id, member: member}
	r.genMu.Unlock()
}

// subscribed makes the generation just joined the current one.
func (r *Reader) subscribed() {
	r.genMu.Lock()
	g := r.pending
	g.seq = r.cur.seq + 1
	r.cur = g
	r.generation.Store(g.seq)
	r.genMu.Unlock()
}

func (r *Reader) current() groupGen {
	r.genMu.Lock()
	defer r.genMu.Unlock()
	return r.cur
}

// Commit commits, for each partition, the offset after the highest message
// given for it, in the reader's current generation, and blocks until the
// broker answered, ctx ended or the reader closed (ErrClosed). If the group
// has rebalanced since, the broker refuses the commit. Most callers want
// Tracker.Commit instead.
func (r *Reader) Commit(ctx context.Context, msgs ...kafka.Message) error {
	return r.commitIn(ctx, r.current(), msgs)
}

func (r *Reader) commitIn(ctx context.Context, g groupGen, msgs []kafka.Message) error {
	if r.closed.Err() != nil {
		return ErrClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	if g.seq == 0 {
		return errNoGeneration
	}
	next := map[string]map[int]int64{}
	for _, m := range msgs {
		if next[m.Topic] == nil {
			next[m.Topic] = map[int]int64{}
		}
		next[m.Topic][m.Partition] = max(next[m.Topic][m.Partition], m.Offset+1)
	}
	req := &kafka.OffsetCommitRequest{GroupID: r.group, GenerationID: int(g.id), MemberID: g.member,
		Topics: map[string][]kafka.OffsetCommit{}}
	for topic, parts := range next {
		for p, off := range parts {
			req.Topics[topic] = append(req.Topics[topic], kafka.OffsetCommit{Partition: p, Offset: off})
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(r.closed, cancel)()
	var err error
	for attempt := 0; attempt < commitAttempts; attempt++ {
		if attempt > 0 && !sleepCtx(cctx, time.Duration(100<<(attempt-1))*time.Millisecond) {
			break
		}
		if err = r.commitOnce(cctx, req); err == nil || !retriable(err) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil && r.closed.Err() != nil:
		return ErrClosed
	default:
		return fmt.Errorf("committing offsets: %w", err)
	}
}

func (r *Reader) commitOnce(ctx context.Context, req *kafka.OffsetCommitRequest) error {
	resp, err := r.committer.OffsetCommit(ctx, req)
	if err != nil {
		return err
	}
	for _, parts := range resp.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return p.Error
			}
		}
	}
	return nil
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

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// newCommitTransport carries the commits over the same kind of connection
// (TLS, SASL) as the reader's dialer.
func newCommitTransport(d *kafka.Dialer) *kafka.Transport {
	return &kafka.Transport{
		Dial:        d.DialFunc,
		DialTimeout: d.Timeout,
		ClientID:    d.ClientID,
		TLS:         d.TLS,
		SASL:        d.SASLMechanism,
	}
}
