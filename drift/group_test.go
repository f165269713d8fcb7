package drift

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// group is N monitors ("workers") of one model version sharing a real
// redis-server, as N sluice processes would.
type group struct {
	t       *testing.T
	redis   *testkit.Redis
	sink    *captureSink
	reg     *prometheus.Registry
	met     *Metrics
	cfg     Config
	mons    []*Monitor
	local   []int // events observed by each monitor since its last flush
	next    int   // the monitor that gets the next event
	clients []*redis.Client
}

func newGroup(t *testing.T, cfg Config, p *Profile, n int, opts ...Option) *group {
	t.Helper()
	g := &group{t: t, redis: testkit.StartRedis(t), sink: newCaptureSink(), reg: prometheus.NewRegistry(), cfg: cfg.WithDefaults()}
	g.met = NewMetrics(g.reg)
	for i := range n {
		o := append([]Option{WithMetrics(g.met), WithWorkerID(fmt.Sprintf("w%d", i))}, opts...)
		m, err := NewMonitor(cfg, "fraud", "3", p, g.client(), g.sink, o...)
		if err != nil {
			t.Fatal(err)
		}
		g.mons = append(g.mons, m)
	}
	g.local = make([]int, n)
	return g
}

// client is a Redis client for one worker that fails fast when Redis is
// down, so outage tests do not wait out retries.
func (g *group) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: g.redis.Addr, MaxRetries: -1, DialerRetries: 1,
		DialerRetryTimeout: 10 * time.Millisecond, DialTimeout: 200 * time.Millisecond})
	g.t.Cleanup(func() { c.Close() })
	g.clients = append(g.clients, c)
	return c
}

// waitRedis waits until every worker's client reaches Redis again.
func (g *group) waitRedis() {
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range g.clients {
		for c.Ping(g.t.Context()).Err() != nil {
			if time.Now().After(deadline) {
				g.t.Fatal("redis clients did not reconnect")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// feed observes n events round-robin over the monitors; each flushes
// (synchronously) after FlushEvents of its own events. It returns the
// flush errors it met.
func (g *group) feed(gen *gen, n int) (errs []error) {
	ctx := g.t.Context()
	for range n {
		k := g.next
		g.next = (g.next + 1) % len(g.mons)
		offerNext(g.mons[k], gen)
		if g.local[k]++; g.local[k] == g.cfg.FlushEvents {
			g.local[k] = 0
			if err := g.mons[k].Flush(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// run runs every monitor's Run loop, and each of feeders concurrently
// with its own generator, until the feeders are done; then it stops the
// loops (each makes its final flush) and waits for them.
func (g *group) run(feeders ...func(m *Monitor)) {
	ctx, cancel := context.WithCancel(g.t.Context())
	var loops, feeds sync.WaitGroup
	for _, m := range g.mons {
		loops.Go(func() {
			if err := m.Run(ctx); err != nil {
				g.t.Errorf("run: %v", err)
			}
		})
	}
	for i, f := range feeders {
		feeds.Go(func() { f(g.mons[i%len(g.mons)]) })
	}
	feeds.Wait()
	cancel()
	loops.Wait()
}

func (g *group) reports() []map[string]any  { return g.sink.get(g.cfg.ReportsTopic) }
func (g *group) retrains() []map[string]any { return g.sink.get(g.cfg.RetrainTopic) }

// openEvents is how many events the group's open window holds.
func (g *group) openEvents() int64 {
	v, _ := g.redis.Client().HGet(g.t.Context(), g.mons[0].keys.state, "events").Int64()
	return v
}

func testConfig() Config {
	c := DefaultConfig()
	c.FlushInterval = 20 * time.Millisecond
	c.WindowDuration = time.Minute
	// The tests feed events far faster than a worker sees them and count
	// windows by events fed: bin every one (TestMaxRateRaisesSampling
	// covers max_rate).
	c.MaxRate = -1
	return c
}

func seqOf(r map[string]any) int64 { return r["window_seq"].(int64) }
