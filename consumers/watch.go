package consumers

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// health is what the reader knows about its standing: written by the
// group loop, the fetchers and the watcher, read by Health and Lag.
type health struct {
	lastContact atomic.Int64 // unix nanoseconds of the last broker answer; 0 never
	partitions  atomic.Int32 // the topic's partition count, as last read; -1 unknown
	hold        atomic.Bool  // a needed topic is missing: fetchers wait
	rejoin      chan struct{}

	mu       sync.Mutex
	missing  []string // needed topics the cluster does not have
	joinErr  error    // the last failure to join, nil once joined
	genID    int32
	member   string
	assigned []int
}

func (h *health) contact() { h.lastContact.Store(time.Now().UnixNano()) }

func (h *health) holding() bool { return h.hold.Load() }

func (h *health) joined(log *slog.Logger, id int32, member string, parts []int) {
	h.mu.Lock()
	failed := h.joinErr != nil
	h.joinErr, h.genID, h.member, h.assigned = nil, id, member, parts
	h.mu.Unlock()
	h.contact()
	log.Info("joined the consumer group", "generation", id, "member", member, "partitions", parts, "after_failures", failed)
}

func (h *health) joinFailed(log *slog.Logger, err error) {
	h.mu.Lock()
	first := h.joinErr == nil
	h.joinErr = err
	h.mu.Unlock()
	if first {
		log.Warn("joining the consumer group failed; retrying", "err", err)
	}
}

// Health is a snapshot of a reader's standing in its group and cluster.
type Health struct {
	// Joined: a member of a current generation.
	Joined bool
	// GenerationID and MemberID are the coordinator's, for the current (or
	// last) generation; Partitions are the partitions assigned in it.
	GenerationID int32
	MemberID     string
	Partitions   []int
	// JoinError is the last failure to join the group since the last join.
	JoinError error
	// MissingTopics are the needed topics (Topic and WatchTopics) the
	// cluster does not have; nothing is fetched while there are any.
	MissingTopics []string
	// LastContact is when a broker last answered the reader (a fetch,
	// metadata, a commit, a join); zero if never.
	LastContact time.Time
}

// Health returns the reader's standing. Safe for concurrent use.
func (r *Reader) Health() Health {
	h := &r.health
	h.mu.Lock()
	out := Health{GenerationID: h.genID, MemberID: h.member, Partitions: slices.Clone(h.assigned),
		JoinError: h.joinErr, MissingTopics: slices.Clone(h.missing)}
	h.mu.Unlock()
	out.Joined = r.Joined()
	if !out.Joined {
		out.Partitions = nil
	}
	if ns := h.lastContact.Load(); ns != 0 {
		out.LastContact = time.Unix(0, ns)
	}
	return out
}

// Lag returns how many messages of the partitions assigned to this member
// lie between the group's committed position and the end of the partition,
// summed (what kafka-consumer-groups reports as LAG), as of the last fetch
// or metadata read (every ReaderConfig.TopicCheckInterval). 0 while the
// reader is not in a generation. Safe for concurrent use.
func (r *Reader) Lag() int64 {
	g := r.current()
	if g == nil {
		return 0
	}
	var lag int64
	for _, a := range g.parts {
		hw, c := a.hw.Load(), a.committed.Load()
		if hw >= 0 && c >= 0 && hw > c {
			lag += hw - c
		}
	}
	return lag
}

// watch reads the cluster's metadata every TopicCheckInterval until the
// reader closes: which needed topics exist (fetching holds while one is
// missing), the topic's partition count (a change ends the generation so
// that the group reassigns) and the end offsets of the assigned partitions
// (for Lag, even while fetching is blocked).
func (r *Reader) watch() {
	topics := append([]string{r.topic}, r.cfg.WatchTopics...)
	tick := time.NewTicker(r.cfg.TopicCheckInterval)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		r.checkTopics(ctx, topics)
		r.readEnds(ctx)
		cancel()
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (r *Reader) checkTopics(ctx context.Context, topics []string) {
	res, err := r.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return // unreachable: LastContact ages
	}
	r.health.contact()
	var missing []string
	parts := int32(0)
	for _, name := range topics {
		found := false
		for _, t := range res.Topics {
			if t.Name != name {
				continue
			}
			if t.Error == nil && len(t.Partitions) > 0 {
				found = true
				if name == r.topic {
					parts = int32(len(t.Partitions))
				}
			} else if t.Error != nil && !errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				return // some other trouble: keep what is known
			}
		}
		if !found {
			missing = append(missing, name)
		}
	}
	h := &r.health
	h.mu.Lock()
	was := h.missing
	h.missing = missing
	h.mu.Unlock()
	h.hold.Store(len(missing) > 0)
	for _, m := range missing {
		if !slices.Contains(was, m) {
			r.log.Warn("topic missing: not consuming until it exists", "missing_topic", m)
		}
	}
	for _, m := range was {
		if !slices.Contains(missing, m) {
			r.log.Info("topic exists again: consuming", "found_topic", m)
		}
	}
	h.partitions.Store(parts)
	if g := r.current(); g != nil {
		if was := g.topicParts.Swap(parts); was < 0 || was == parts {
			return
		}
		select {
		case h.rejoin <- struct{}{}:
		default:
		}
	}
}

// readEnds refreshes the end offsets of the assigned partitions.
func (r *Reader) readEnds(ctx context.Context) {
	g := r.current()
	if g == nil || len(g.parts) == 0 {
		return
	}
	reqs := make([]kafka.OffsetRequest, len(g.parts))
	for i, a := range g.parts {
		reqs[i] = kafka.LastOffsetOf(a.partition)
	}
	res, err := r.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{r.topic: reqs}})
	if err != nil {
		return
	}
	for _, po := range res.Topics[r.topic] {
		if a := g.part(po.Partition); a != nil && po.Error == nil {
			a.hw.Store(po.LastOffset)
		}
	}
}
