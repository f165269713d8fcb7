package consumers

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/segmentio/kafka-go"
)

// genState is one generation of the group that this member was given.
type genState struct {
	seq   uint64
	kg    *kafka.Generation
	parts []*assigned
	// topicParts is the topic's partition count when the generation
	// began, as the watcher last saw it; a different count ends the
	// generation so that the group assigns the partitions again.
	topicParts atomic.Int32
}

// assigned is one partition of a generation: where its fetcher starts, and
// the two positions consumer lag is measured between.
type assigned struct {
	partition int
	start     int64        // first offset to fetch (kafka.FirstOffset, LastOffset: resolved by the fetcher)
	hw        atomic.Int64 // end of the partition, as last seen; -1 unknown
	committed atomic.Int64 // the group's position: the next offset to read; -1 unknown
	paused    *atomic.Bool // the Tracker's pause flag of the partition; nil without a Tracker
}

func (g *genState) part(p int) *assigned {
	for _, a := range g.parts {
		if a.partition == p {
			return a
		}
	}
	return nil
}

// runGeneration is the one function the reader starts in each generation
// (kafka.Generation.Start): it fetches every assigned partition until the
// generation ends (a rebalance, the coordinator lost, the topic's partition
// count changed) or the reader closes. Then it stops the fetchers, lets the
// Tracker drain and commit through this generation, and returns; kafka-go
// joins the next generation only after that.
func (r *Reader) runGeneration(gctx context.Context, kg *kafka.Generation, seq uint64) {
	g := &genState{seq: seq, kg: kg}
	g.topicParts.Store(r.health.partitions.Load())
	pas := kg.Assignments[r.topic]
	var starts []partStart
	if r.tracker != nil {
		starts = r.tracker.assign(seq, r.topic, pas)
	}
	ids := make([]int, len(pas))
	for i, pa := range pas {
		a := &assigned{partition: pa.ID, start: pa.Offset}
		a.hw.Store(-1)
		a.committed.Store(max(pa.Offset, -1))
		if starts != nil {
			a.start, a.paused = starts[i].offset, starts[i].paused
		}
		g.parts = append(g.parts, a)
		ids[i] = pa.ID
	}
	// A partition count change seen before this generation is in it.
	select {
	case <-r.health.rejoin:
	default:
	}
	r.genMu.Lock()
	r.gen = g
	r.genMu.Unlock()
	r.liveSeq.Store(seq)
	r.health.joined(r.log, kg.ID, kg.MemberID, ids)

	fctx, stop := context.WithCancel(r.ctx)
	var wg sync.WaitGroup
	for _, a := range g.parts {
		wg.Go(func() { r.fetchPartition(fctx, g, a) })
	}
	closing := false
	select {
	case <-gctx.Done():
	case <-r.health.rejoin:
		r.log.Info("partition count changed; rejoining the group", "partitions", r.health.partitions.Load())
	case <-r.ctx.Done():
		closing = true
	}
	stop()
	wg.Wait()
	r.liveSeq.CompareAndSwap(seq, 0)
	if r.tracker != nil {
		// Drain only on a rebalance: on Close the owner has drained already.
		r.tracker.endGeneration(seq, !closing)
	}
	r.genMu.Lock()
	r.gen = nil
	r.genMu.Unlock()
}

// current returns the current generation, nil between generations.
func (r *Reader) current() *genState {
	r.genMu.Lock()
	defer r.genMu.Unlock()
	return r.gen
}

// partStart is where the Tracker has a partition fetched from in a new
// generation, and its pause flag.
type partStart struct {
	offset int64
	paused *atomic.Bool
}
