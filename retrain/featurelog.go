package retrain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/pipeline"
)

// DefaultFeatureTTL is how long a FeatureLog keeps an event by default.
const DefaultFeatureTTL = time.Hour

// featureKeyPrefix starts the Redis key of a kept event.
const featureKeyPrefix = "sluice:features:"

// lookupChunk is how many keys one MGET reads.
const lookupChunk = 1000

// FeatureKey returns the Redis key under which a FeatureLog keeps the event
// with id eventID. It is safe for concurrent use.
func FeatureKey(eventID string) string { return featureKeyPrefix + eventID }

// FeatureLog keeps the framed input of scored events in Redis for a
// bounded time, so that labels arriving later can be joined with the
// features the model saw. It implements pipeline.Keeper. It is safe for
// concurrent use.
type FeatureLog struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

var _ pipeline.Keeper = (*FeatureLog)(nil)

// NewFeatureLog returns a FeatureLog over rdb keeping each event for ttl
// (DefaultFeatureTTL when ttl <= 0). The caller keeps ownership of rdb.
func NewFeatureLog(rdb redis.UniversalClient, ttl time.Duration) *FeatureLog {
	if ttl <= 0 {
		ttl = DefaultFeatureTTL
	}
	return &FeatureLog{rdb: rdb, ttl: ttl}
}

// TTL returns how long the log keeps an event.
func (f *FeatureLog) TTL() time.Duration { return f.ttl }

// Keep stores each event's value under FeatureKey(EventID) with the log's
// TTL, in one pipelined round trip. Events without an id are skipped: no
// label can name them. A later Keep of the same id replaces the value.
func (f *FeatureLog) Keep(ctx context.Context, events []pipeline.KeptEvent) error {
	n := 0
	for i := range events {
		if events[i].EventID != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	_, err := f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range events {
			if e := &events[i]; e.EventID != "" {
				p.Set(ctx, FeatureKey(e.EventID), e.Value, f.ttl)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keeping %d events: %w", n, err)
	}
	return nil
}

// Lookup returns the kept value of each id, in order; an entry is nil where
// the event was never kept or has expired. It reads in chunks of 1000 keys,
// one round trip each (MGET; pipelined GETs on a Redis Cluster, whose MGET
// cannot span slots).
func (f *FeatureLog) Lookup(ctx context.Context, ids []string) ([][]byte, error) {
	out := make([][]byte, len(ids))
	keys := make([]string, 0, min(len(ids), lookupChunk))
	_, cluster := f.rdb.(*redis.ClusterClient)
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		keys = keys[:0]
		for _, id := range chunk {
			keys = append(keys, FeatureKey(id))
		}
		var err error
		if cluster {
			err = f.getEach(ctx, keys, out[start:])
		} else {
			err = f.mget(ctx, keys, out[start:])
		}
		if err != nil {
			return nil, fmt.Errorf("looking up %d kept events: %w", len(ids), err)
		}
	}
	return out, nil
}

func (f *FeatureLog) mget(ctx context.Context, keys []string, out [][]byte) error {
	vals, err := f.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return nil
}

func (f *FeatureLog) getEach(ctx context.Context, keys []string, out [][]byte) error {
	cmds := make([]*redis.StringCmd, len(keys))
	_, _ = f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	for i, c := range cmds {
		b, err := c.Bytes()
		switch {
		case err == nil:
			out[i] = b
		case !errors.Is(err, redis.Nil):
			return err
		}
	}
	return nil
}
