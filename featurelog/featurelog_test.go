package featurelog

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/internal/testkit"
	"github.com/sluice-ml/sluice/pipeline"
)

// roundTrips counts the commands and pipelines a go-redis client sends,
// leaving out connection setup.
type roundTrips struct{ single, pipelines atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if connectionSetup(cmd) == 0 {
			c.single.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if connectionSetup(cmds...) < len(cmds) {
			c.pipelines.Add(1)
		}
		return next(ctx, cmds)
	}
}

// connectionSetup counts the commands go-redis sends on a new connection
// (HELLO, CLIENT SETINFO), which are not the code under test's.
func connectionSetup(cmds ...redis.Cmder) int {
	n := 0
	for _, c := range cmds {
		if c.Name() == "hello" || c.Name() == "client" {
			n++
		}
	}
	return n
}

// events returns n kept events named prefix-0 .. prefix-(n-1).
func events(prefix string, from, n int) []pipeline.KeptEvent {
	out := make([]pipeline.KeptEvent, n)
	for i := range out {
		out[i] = pipeline.KeptEvent{EventID: fmt.Sprintf("%s-%d", prefix, from+i), Value: fmt.Appendf(nil, "\x00value %s %d", prefix, from+i)}
	}
	return out
}

func TestFeatureLogKeepLookup(t *testing.T) {
	srv := testkit.StartRedis(t)
	rdb := srv.Client()
	defer rdb.Close()
	ctx := t.Context()
	if err := rdb.Ping(ctx).Err(); err != nil { // dial (and handshake) before counting
		t.Fatal(err)
	}
	counter := &roundTrips{}
	rdb.AddHook(counter)
	const ttl = 90 * time.Second
	fl := New(rdb, ttl)
	if fl.MaxEvents() != DefaultMaxEvents {
		t.Fatalf("MaxEvents %d, want the default %d", fl.MaxEvents(), DefaultMaxEvents)
	}

	tests := []struct {
		name   string
		events int
	}{
		{"one event", 1},
		{"a batch", 500},
		{"more than a lookup chunk", 2500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := append(events(tt.name, 0, tt.events), pipeline.KeptEvent{Value: []byte("no id")})
			counter.single.Store(0)
			counter.pipelines.Store(0)
			if err := fl.Keep(ctx, batch); err != nil {
				t.Fatal(err)
			}
			// One script call (EVALSHA, and EVAL the first time, when Redis
			// does not know the script yet).
			if p, s := counter.pipelines.Load(), counter.single.Load(); p != 0 || s < 1 || s > 2 {
				t.Fatalf("Keep made %d pipelines and %d single calls, want one script call", p, s)
			}
			ids := []string{"never-kept"}
			for _, e := range batch[:tt.events] {
				ids = append(ids, e.EventID)
			}
			counter.single.Store(0)
			counter.pipelines.Store(0)
			got, err := fl.Lookup(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			if s, p := counter.single.Load(), counter.pipelines.Load(); s != 1 || p != 1 {
				t.Fatalf("Lookup of %d ids made %d single calls and %d pipelines, want one of each", len(ids), s, p)
			}
			if got[0] != nil {
				t.Fatalf("never-kept event has value %q", got[0])
			}
			for i, e := range batch[:tt.events] {
				if string(got[i+1]) != string(e.Value) {
					t.Fatalf("event %d: got %q, want %q", i, got[i+1], e.Value)
				}
			}
		})
	}
	// Every hash the log writes expires within the TTL.
	keys, err := rdb.Keys(ctx, "sluice:features:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if left, err := rdb.PTTL(ctx, k).Result(); err != nil || left <= ttl-5*time.Second || left > ttl {
			t.Fatalf("%s: TTL %v (%v), want about %v", k, left, err, ttl)
		}
	}
	counter.single.Store(0)
	if err := fl.Keep(ctx, nil); err != nil || counter.single.Load() != 0 {
		t.Fatalf("Keep of nothing: %v, %d calls", err, counter.single.Load())
	}
}

// However many events go through it, the log holds at most MaxEvents —
// the most recent ones — in a handful of Redis keys, with several writers
// sharing it.
func TestFeatureLogIsCapped(t *testing.T) {
	srv := testkit.StartRedis(t)
	rdb := srv.Client()
	defer rdb.Close()
	ctx := t.Context()
	const max, writers, batches, batch = 800, 2, 40, 128 // 10,240 events kept, 12.8 times the cap
	// The writers go in rounds, each writing one batch a round, so the last
	// two rounds (512 events, fewer than the 700 the log holds at least)
	// are the newest whatever the scheduling.
	for b := range batches {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fl := New(rdb, time.Hour, WithMaxEvents(max))
				if err := fl.Keep(ctx, events(fmt.Sprint("w", w), b*batch, batch)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	reader := New(rdb, time.Hour) // a reader needs no cap
	n, err := reader.Len(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("holding %d of %d events kept", n, writers*batches*batch)
	if n > max || n < max*7/8 {
		t.Fatalf("log holds %d events, want between %d and %d", n, max*7/8, max)
	}
	if keys, err := rdb.DBSize(ctx).Result(); err != nil || keys > featureGenerations+2 {
		t.Fatalf("%d Redis keys (%v), want at most %d", keys, err, featureGenerations+2)
	}
	// The newest events of each writer are there, the oldest are gone.
	for w := range writers {
		recent := events(fmt.Sprint("w", w), (batches-1)*batch, batch)
		oldest := events(fmt.Sprint("w", w), 0, batch)
		ids := make([]string, 0, 2*batch)
		for _, e := range append(recent, oldest...) {
			ids = append(ids, e.EventID)
		}
		got, err := reader.Lookup(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recent {
			if string(got[i]) != string(recent[i].Value) {
				t.Fatalf("recent event %s: got %q", recent[i].EventID, got[i])
			}
			if got[batch+i] != nil {
				t.Fatalf("oldest event %s still kept", oldest[i].EventID)
			}
		}
	}
	all, err := reader.Recent(ctx, 10*max)
	if err != nil || int64(len(all)) != n {
		t.Fatalf("Recent returned %d events (%v), want all %d", len(all), err, n)
	}
	some, err := reader.Recent(ctx, 10)
	if err != nil || len(some) != 10 {
		t.Fatalf("Recent(10) returned %d events (%v)", len(some), err)
	}
	for _, e := range some {
		if !strings.HasPrefix(string(e.Value), "\x00value "+strings.Replace(e.EventID, "-", " ", 1)) {
			t.Fatalf("Recent: %s holds %q", e.EventID, e.Value)
		}
	}
}

func TestFeatureLogExpires(t *testing.T) {
	srv := testkit.StartRedis(t)
	rdb := srv.Client()
	defer rdb.Close()
	fl := New(rdb, time.Second)
	if fl.TTL() != time.Second || New(rdb, 0).TTL() != DefaultTTL {
		t.Fatal("TTL defaults")
	}
	if err := fl.Keep(t.Context(), []pipeline.KeptEvent{{EventID: "e", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := fl.Lookup(t.Context(), []string{"e"})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("kept event did not expire")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestFeatureLogRedisDown(t *testing.T) {
	srv := testkit.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer rdb.Close()
	fl := New(rdb, time.Minute)
	srv.Kill()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := fl.Keep(ctx, []pipeline.KeptEvent{{EventID: "e", Value: []byte("v")}}); err == nil {
		t.Fatal("Keep succeeded with Redis down")
	}
	if _, err := fl.Lookup(ctx, []string{"e"}); err == nil {
		t.Fatal("Lookup succeeded with Redis down")
	}
}
