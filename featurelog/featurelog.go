package featurelog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/pipeline"
)

// DefaultTTL is how long a Log keeps an event by default.
const DefaultTTL = time.Hour

// DefaultMaxEvents is how many events a Log keeps by default:
// four times the retrainer's default label-join buffer (50,000), so labels
// that arrive a while after their events still find them.
const DefaultMaxEvents = 200_000

// featureGenerations is how many generations the log keeps; the oldest is
// deleted whole when a new one starts, so the log holds between
// (featureGenerations-1)/featureGenerations of its cap and the cap.
const featureGenerations = 8

// Redis keys of the log. The hash tag {features} keeps them in one Redis
// Cluster slot, so the keep script may touch them together.
const (
	featureHead   = "sluice:features:{features}:head" // hash: gen (current generation), n (events in it)
	featurePrefix = "sluice:features:{features}:gen:" // + generation number: hash event id → value
)

// lookupChunk is how many ids one HMGET reads.
const lookupChunk = 1000

// Log keeps the framed input of scored events in Redis so that
// labels arriving later can be joined with the features the model saw.
// What it holds is bounded by count, not by throughput × time: at most
// MaxEvents events (default DefaultMaxEvents), the most recent ones,
// each for at most its TTL. Events are written in generations of
// MaxEvents/8 (one Redis hash each); when a generation is full the next
// starts and the oldest is deleted whole, so memory stays flat at any rate
// and no per-event key or expiry is needed. Workers sharing a Redis share
// one log (the generation counter is in Redis, advanced by a Lua script).
//
// It implements pipeline.Keeper. It is safe for concurrent use.
type Log struct {
	rdb       redis.UniversalClient
	ttl       time.Duration
	maxEvents int
}

var _ pipeline.Keeper = (*Log)(nil)

// Option changes a Log.
type Option func(*Log)

// WithMaxEvents caps the events the log holds (n <= 0:
// DefaultMaxEvents). Only writers need it; a reader reads whatever the
// writers kept.
func WithMaxEvents(n int) Option {
	return func(f *Log) {
		if n > 0 {
			f.maxEvents = n
		}
	}
}

// New returns a Log over rdb keeping each event for at most ttl
// (DefaultTTL when ttl <= 0). The caller keeps ownership of rdb.
func New(rdb redis.UniversalClient, ttl time.Duration, opts ...Option) *Log {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	f := &Log{rdb: rdb, ttl: ttl, maxEvents: DefaultMaxEvents}
	for _, o := range opts {
		o(f)
	}
	return f
}

// TTL returns how long the log keeps an event at most.
func (f *Log) TTL() time.Duration { return f.ttl }

// MaxEvents returns the most events the log holds.
func (f *Log) MaxEvents() int { return f.maxEvents }

// generationSize is how many events one generation holds.
func (f *Log) generationSize() int { return max(1, f.maxEvents/featureGenerations) }

func generationKey(gen int64) string { return featurePrefix + strconv.FormatInt(gen, 10) }

// keepScript appends event id/value pairs (ARGV[5...]) to the current
// generation, starting a new generation (and deleting the one that falls
// out) whenever the current holds ARGV[2] events. ARGV[1] is the generation
// key prefix, ARGV[3] the number of generations kept, ARGV[4] the TTL in
// milliseconds, set on every hash written and on the head. It returns the
// current generation.
var keepScript = redis.NewScript(`
local prefix, size, gens, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local fields = {}
local function flush()
  if #fields > 0 then
    redis.call('HSET', prefix .. gen, unpack(fields))
    redis.call('PEXPIRE', prefix .. gen, ttl)
    fields = {}
  end
end
for i = 5, #ARGV, 2 do
  if n >= size then
    flush()
    gen = gen + 1
    n = 0
    redis.call('DEL', prefix .. (gen - gens))
  end
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  n = n + 1
  if #fields >= 1000 then flush() end
end
flush()
redis.call('HSET', KEYS[1], 'gen', gen, 'n', n)
redis.call('PEXPIRE', KEYS[1], ttl)
return gen
`)

// Keep stores each event's value under its id, in one round trip (a Lua
// script), evicting the oldest generation of events when the log is full.
// Events without an id are skipped: no label can name them. A later Keep
// of the same id shadows the earlier value.
func (f *Log) Keep(ctx context.Context, events []pipeline.KeptEvent) error {
	args := make([]any, 4, 4+2*len(events))
	args[0], args[1], args[2], args[3] = featurePrefix, f.generationSize(), featureGenerations, f.ttl.Milliseconds()
	for i := range events {
		if e := &events[i]; e.EventID != "" {
			args = append(args, e.EventID, e.Value)
		}
	}
	n := (len(args) - 4) / 2
	if n == 0 {
		return nil
	}
	if err := keepScript.Run(ctx, f.rdb, []string{featureHead}, args...).Err(); err != nil {
		return fmt.Errorf("keeping %d events: %w", n, err)
	}
	return nil
}

// generations returns the generations that may hold events, newest first:
// the next one too, which a writer may start between this read and the
// caller's.
func (f *Log) generations(ctx context.Context) ([]int64, error) {
	s, err := f.rdb.HGet(ctx, featureHead, "gen").Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, err
	}
	cur, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("feature log head: bad generation %q", s)
	}
	gens := make([]int64, 0, featureGenerations+1)
	for g := cur + 1; g >= 0 && g > cur-featureGenerations; g-- {
		gens = append(gens, g)
	}
	return gens, nil
}

// Lookup returns the kept value of each id, in order; an entry is nil where
// the event was never kept, has been evicted or has expired. It costs two
// round trips however many ids it is given: one to read which generations
// exist, one pipeline of HMGETs (1000 ids each) over them.
func (f *Log) Lookup(ctx context.Context, ids []string) ([][]byte, error) {
	out := make([][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	gens, err := f.generations(ctx)
	if err != nil || len(gens) == 0 {
		if err != nil {
			err = fmt.Errorf("looking up %d kept events: %w", len(ids), err)
		}
		return out, err
	}
	type read struct {
		start int
		cmd   *redis.SliceCmd
	}
	var reads []read // newest generation first within each chunk
	_, err = f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for start := 0; start < len(ids); start += lookupChunk {
			chunk := ids[start:min(start+lookupChunk, len(ids))]
			for _, g := range gens {
				reads = append(reads, read{start, p.HMGet(ctx, generationKey(g), chunk...)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up %d kept events: %w", len(ids), err)
	}
	for _, r := range reads {
		for i, v := range r.cmd.Val() {
			if s, ok := v.(string); ok && out[r.start+i] == nil {
				out[r.start+i] = []byte(s)
			}
		}
	}
	return out, nil
}

// Recent returns up to limit kept events, newest generation first (within
// a generation, in no particular order). It reads whole generations, so
// ask for what a retrain needs, not more.
func (f *Log) Recent(ctx context.Context, limit int) ([]pipeline.KeptEvent, error) {
	gens, err := f.generations(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing kept events: %w", err)
	}
	var out []pipeline.KeptEvent
	for _, g := range gens {
		if len(out) >= limit {
			break
		}
		m, err := f.rdb.HGetAll(ctx, generationKey(g)).Result()
		if err != nil {
			return nil, fmt.Errorf("listing kept events: %w", err)
		}
		for id, v := range m {
			if len(out) >= limit {
				break
			}
			out = append(out, pipeline.KeptEvent{EventID: id, Value: []byte(v)})
		}
	}
	return out, nil
}

// Len returns how many events the log holds now (an id kept twice in one
// generation counts once).
func (f *Log) Len(ctx context.Context) (int64, error) {
	gens, err := f.generations(ctx)
	if err != nil {
		return 0, fmt.Errorf("counting kept events: %w", err)
	}
	cmds := make([]*redis.IntCmd, len(gens))
	_, err = f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range gens {
			cmds[i] = p.HLen(ctx, generationKey(g))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("counting kept events: %w", err)
	}
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n, nil
}
