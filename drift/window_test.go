package drift

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func flushAll(t *testing.T, g *group) {
	t.Helper()
	for _, m := range g.mons {
		if err := m.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// Windows close by time when they hold enough events, and stay open
// while they do not.
func TestWindowClosesByTime(t *testing.T) {
	p := testProfile(t, 20_000)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	cfg := testConfig()
	cfg.MinWindowEvents = 500
	g := newGroup(t, cfg, p, 2, WithClock(clock.now))
	gen := newGen(61)

	g.feed(gen, 1000)
	flushAll(t, g)
	clock.add(59 * time.Second)
	flushAll(t, g)
	if n := len(g.reports()); n != 0 {
		t.Fatalf("%d reports before the window is due", n)
	}
	clock.add(time.Second)
	flushAll(t, g) // a tick without events closes the due window
	reps := g.reports()
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1", len(reps))
	}
	r := reps[0]
	if r["events"].(int64) != 1000 || r["workers"].(int32) != 2 {
		t.Errorf("events %v workers %v", r["events"], r["workers"])
	}
	if s, e := r["window_start"].(time.Time), r["window_end"].(time.Time); !s.Equal(clock.t.Add(-time.Minute)) || !e.Equal(s) {
		t.Errorf("bounds %v .. %v", s, e)
	}

	// Too few events: the window outlives its minute until it has enough.
	g.feed(gen, 100)
	flushAll(t, g)
	clock.add(2 * time.Minute)
	flushAll(t, g)
	if n := len(g.reports()); n != 1 {
		t.Fatalf("window with 100 events closed by time")
	}
	g.feed(gen, 500)
	flushAll(t, g)
	flushAll(t, g)
	reps = g.reports()
	if len(reps) != 2 || reps[1]["events"].(int64) != 600 {
		t.Fatalf("reports %d, last %v", len(reps), reps[len(reps)-1]["events"])
	}
}

// A worker that closes a window and dies before evaluating it: another
// worker's sweep evaluates it after the lease, exactly once.
func TestSweepTakesOverAbandonedWindow(t *testing.T) {
	p := testProfile(t, 20_000)
	cfg := testConfig()
	cfg.WindowEvents, cfg.FlushEvents, cfg.CloseLease = 1000, 1000, 100*time.Millisecond
	g := newGroup(t, cfg, p, 2)
	gen := newGen(62)
	for range 1000 {
		offerNext(g.mons[0], gen)
	}
	closed, err := g.mons[0].flush(t.Context()) // closes, does not evaluate
	if err != nil || len(closed) != 1 {
		t.Fatalf("closed %v, err %v", closed, err)
	}
	if err := g.mons[1].sweep(t.Context()); err != nil || len(g.reports()) != 0 {
		t.Fatalf("swept within the lease: %v, %d reports", err, len(g.reports()))
	}
	time.Sleep(150 * time.Millisecond)
	var wg sync.WaitGroup
	for _, m := range g.mons {
		wg.Go(func() {
			if err := m.sweep(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := g.mons[1].sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.mons[0].evaluate(t.Context(), closed[0]); err != nil {
		t.Fatal(err)
	}
	if reps := g.reports(); len(reps) != 1 || reps[0]["window_id"] != closed[0] {
		t.Fatalf("reports %v", reps)
	}
}

// Workers with different profiles for one version cannot mix counts.
func TestProfileMismatchRejected(t *testing.T) {
	g := newGroup(t, testConfig(), testProfile(t, 5000), 1)
	other, err := NewMonitor(testConfig(), "fraud", "3", testProfile(t, 6000), g.client(), g.sink)
	if err != nil {
		t.Fatal(err)
	}
	gen := newGen(63)
	offerNext(g.mons[0], gen)
	flushAll(t, g)
	offerNext(other, gen)
	if err := other.Flush(t.Context()); err == nil || !strings.Contains(err.Error(), "profile differs") {
		t.Fatalf("err = %v", err)
	}
}

// A window's counts are the sum of what every worker binned over all its
// flushes: each worker's counts are merged into its own field of the
// window by the flush script and the fields are summed when the window is
// read back.
func TestWindowSumsEveryFlushOfEveryWorker(t *testing.T) {
	p := testProfile(t, 20_000)
	cfg := testConfig()
	cfg.WindowEvents = 1_000_000 // stays open
	g := newGroup(t, cfg, p, 3)
	all, err := NewMonitor(cfg, "fraud", "3", p, nil, g.sink) // bins everything, never flushes
	if err != nil {
		t.Fatal(err)
	}
	gen := newGen(64)
	for flush := range 4 {
		for i := range 300 * (flush + 1) {
			rec, score := gen.next()
			offer(g.mons[i%3], rec, score)
			offer(all, rec, score)
		}
		flushAll(t, g)
	}
	rdb := g.redis.Client()
	id, err := rdb.HGet(t.Context(), g.mons[0].keys.state, "id").Result()
	if err != nil {
		t.Fatal(err)
	}
	fields, err := rdb.HGetAll(t.Context(), g.mons[0].keys.window(id)).Result()
	if err != nil {
		t.Fatal(err)
	}
	w := parseWindow(fields, all.lay.bins, all.fp)
	if !w.fingerprintOK || w.workers != 3 || w.n != all.acc.n || w.n != 3000 {
		t.Fatalf("window: fingerprint ok %v, %d workers, %d events; want 3 workers, %d events", w.fingerprintOK, w.workers, w.n, all.acc.n)
	}
	for i, want := range all.acc.c {
		if w.counts[i] != float64(want) {
			t.Errorf("bin %d: %v in the window, %d binned", i, w.counts[i], want)
		}
	}
}
