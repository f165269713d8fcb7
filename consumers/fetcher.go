package consumers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/backoff"
)

// fetchPartition fetches one assigned partition of generation g from its
// start offset until ctx ends, handing each non-empty response to Fetch as
// one batch. It holds off while a needed topic is missing or the Tracker
// paused the partition, and retries failures with backoff.
func (r *Reader) fetchPartition(ctx context.Context, g *genState, a *assigned) {
	off := a.start
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	for ctx.Err() == nil {
		if r.health.holding() || (a.paused != nil && a.paused.Load()) {
			backoff.Sleep(ctx, 50*time.Millisecond)
			continue
		}
		var msgs []kafka.Message
		var err error
		if off < 0 {
			off, err = r.resolveOffset(ctx, a.partition, off)
			if err == nil && a.committed.Load() < 0 {
				a.committed.Store(off)
			}
		}
		if err == nil {
			msgs, err = r.fetchOnce(ctx, a, off)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, kafka.OffsetOutOfRange) {
				// Kafka's auto.offset.reset: the position left the log
				// (retention, a recreated topic).
				r.log.Warn("fetch position out of range; starting over at the configured start offset",
					"partition", a.partition, "offset", off, "start_offset", r.cfg.StartOffset)
				off = r.startOffset()
				continue
			}
			if bo.Failures() == 0 {
				r.log.Warn("fetching failed; retrying", "partition", a.partition, "offset", off, "err", err)
			}
			if !bo.Wait(ctx) {
				return
			}
			continue
		}
		if n := bo.Failures(); n > 0 {
			r.log.Info("fetching recovered", "partition", a.partition, "failed", n)
			bo.Reset()
		}
		if len(msgs) == 0 {
			continue
		}
		off = msgs[len(msgs)-1].Offset + 1
		// In chunks, so that the partitions' batches interleave: a fetch
		// response can hold thousands of messages.
		for len(msgs) > 0 {
			n := min(len(msgs), fetchChunk)
			select {
			case r.batches <- batch{seq: g.seq, msgs: msgs[:n:n]}:
			case <-ctx.Done():
				return
			}
			msgs = msgs[n:]
		}
	}
}

// fetchChunk is the most messages of one partition handed to Fetch in a
// row before another partition's turn.
const fetchChunk = 256

// fetchOnce sends one fetch request at off and returns the messages at or
// after off.
func (r *Reader) fetchOnce(ctx context.Context, a *assigned, off int64) ([]kafka.Message, error) {
	resp, err := r.client.Fetch(ctx, &kafka.FetchRequest{Topic: r.topic, Partition: a.partition, Offset: off,
		MinBytes: int64(r.cfg.MinBytes), MaxBytes: int64(r.cfg.MaxBytes), MaxWait: r.cfg.MaxWait})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	r.health.contact()
	a.hw.Store(resp.HighWatermark)
	return readRecords(r.topic, a.partition, resp, off)
}

// readRecords turns a fetch response into messages. Keys and values are
// copied out of the response into shared chunks (one allocation per chunk
// rather than two per message); a message keeps its chunk alive.
func readRecords(topic string, partition int, resp *kafka.FetchResponse, from int64) ([]kafka.Message, error) {
	var msgs []kafka.Message
	var chunk []byte
	take := func(b kafka.Bytes) ([]byte, error) {
		if b == nil {
			return nil, nil
		}
		defer b.Close()
		n := b.Len()
		if cap(chunk)-len(chunk) < n {
			chunk = make([]byte, 0, max(n, 64<<10))
		}
		out := chunk[len(chunk) : len(chunk)+n : len(chunk)+n]
		chunk = chunk[:len(chunk)+n]
		if _, err := io.ReadFull(b, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	for {
		rec, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			if len(msgs) > 0 { // keep what was read; the next fetch starts after it
				return msgs, nil
			}
			return nil, fmt.Errorf("reading records of %s/%d at %d: %w", topic, partition, from, err)
		}
		if rec.Offset < from { // a batch may start before the offset asked for
			closeBytes(rec.Key, rec.Value)
			continue
		}
		m := kafka.Message{Topic: topic, Partition: partition, Offset: rec.Offset,
			HighWaterMark: resp.HighWatermark, Time: rec.Time, Headers: rec.Headers}
		if m.Key, err = take(rec.Key); err == nil {
			m.Value, err = take(rec.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("reading record %s/%d@%d: %w", topic, partition, rec.Offset, err)
		}
		msgs = append(msgs, m)
	}
}

func closeBytes(bs ...kafka.Bytes) {
	for _, b := range bs {
		if b != nil {
			b.Close()
		}
	}
}

// resolveOffset turns kafka.FirstOffset or kafka.LastOffset into the
// partition's first or end offset.
func (r *Reader) resolveOffset(ctx context.Context, partition int, which int64) (int64, error) {
	res, err := r.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{r.topic: {{Partition: partition, Timestamp: which}}}})
	if err != nil {
		return which, fmt.Errorf("listing offsets of %s/%d: %w", r.topic, partition, err)
	}
	for _, po := range res.Topics[r.topic] {
		if po.Partition != partition {
			continue
		}
		if po.Error != nil {
			return which, fmt.Errorf("listing offsets of %s/%d: %w", r.topic, partition, po.Error)
		}
		r.health.contact()
		if which == kafka.FirstOffset {
			return po.FirstOffset, nil
		}
		return po.LastOffset, nil
	}
	return which, fmt.Errorf("listing offsets of %s/%d: no answer for the partition", r.topic, partition)
}
