package retrain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

// commandCalls returns how many times the server ran cmd (INFO commandstats).
func commandCalls(t *testing.T, rdb *redis.Client, cmd string) int {
	t.Helper()
	info, err := rdb.Info(t.Context(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
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
	fl := NewFeatureLog(rdb, ttl)

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
			batch := make([]pipeline.KeptEvent, tt.events, tt.events+1)
			for i := range batch {
				batch[i] = pipeline.KeptEvent{EventID: fmt.Sprintf("%s-%d", tt.name, i), Value: fmt.Appendf(nil, "\x00value %d", i)}
			}
			batch = append(batch, pipeline.KeptEvent{Value: []byte("no id")})
			sets := commandCalls(t, rdb, "set")
			counter.single.Store(0)
			counter.pipelines.Store(0)
			if err := fl.Keep(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if p, s := counter.pipelines.Load(), counter.single.Load(); p != 1 || s != 0 {
				t.Fatalf("Keep made %d pipelines and %d single calls, want one pipeline", p, s)
			}
			if got := commandCalls(t, rdb, "set") - sets; got != tt.events {
				t.Fatalf("server ran SET %d times, want %d (the event without an id is skipped)", got, tt.events)
			}
			for _, i := range []int{0, tt.events - 1} {
				left, err := rdb.PTTL(ctx, FeatureKey(batch[i].EventID)).Result()
				if err != nil || left <= ttl-5*time.Second || left > ttl {
					t.Fatalf("event %d TTL %v (%v), want about %v", i, left, err, ttl)
				}
			}

			ids := []string{"never-kept"}
			for _, e := range batch[:tt.events] {
				ids = append(ids, e.EventID)
			}
			counter.single.Store(0)
			got, err := fl.Lookup(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64((len(ids) + lookupChunk - 1) / lookupChunk); counter.single.Load() != want {
				t.Fatalf("Lookup of %d ids made %d calls, want %d", len(ids), counter.single.Load(), want)
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

	if err := fl.Keep(ctx, nil); err != nil || counter.pipelines.Load() != 1 {
		t.Fatalf("Keep of nothing: %v, %d pipelines", err, counter.pipelines.Load())
	}
}

func TestFeatureLogExpires(t *testing.T) {
	srv := testkit.StartRedis(t)
	rdb := srv.Client()
	defer rdb.Close()
	fl := NewFeatureLog(rdb, time.Second)
	if fl.TTL() != time.Second || NewFeatureLog(rdb, 0).TTL() != DefaultFeatureTTL {
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
	fl := NewFeatureLog(rdb, time.Minute)
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
