package drift

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Redis killed in the middle of a window: events keep being observed,
// flushes fail and are counted, and once Redis is back (empty) the window
// that takes the kept counts is reported incomplete; later ones are
// complete again.
func TestRedisOutageReportsIncomplete(t *testing.T) {
	p := testProfile(t, 50_000)
	cfg := testConfig()
	cfg.WindowEvents, cfg.FlushEvents, cfg.MinWindowEvents = 3000, 300, 300
	cfg.RedisTimeout = 500 * time.Millisecond
	g := newGroup(t, cfg, p, 3)
	gen := newGen(51)

	if errs := g.feed(gen, 4500); len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := len(g.reports()); n != 1 {
		t.Fatalf("%d reports before the outage, want 1", n)
	}
	g.redis.Kill()
	errs := g.feed(gen, 3000)
	if len(errs) == 0 {
		t.Fatal("flushes succeeded with redis down")
	}
	if v := testutil.ToFloat64(g.met.flushErrors); v != float64(len(errs)) {
		t.Errorf("flush errors metric %v, flush errors %d", v, len(errs))
	}
	g.redis.Start()
	g.waitRedis()
	if errs := g.feed(gen, 9000); len(errs) > 0 {
		t.Fatal(errs)
	}
	reps := g.reports()
	if len(reps) < 3 {
		t.Fatalf("%d reports, want at least 3", len(reps))
	}
	after := reps[1:]
	if !after[0]["incomplete"].(bool) {
		t.Errorf("first window after the outage not incomplete: %v", after[0])
	}
	if after[0]["window_id"] == reps[0]["window_id"] || seqOf(after[0]) != 1 {
		t.Errorf("window after redis lost its data: id %v seq %v", after[0]["window_id"], seqOf(after[0]))
	}
	for _, r := range after[1:] {
		if r["incomplete"].(bool) {
			t.Errorf("window %v still incomplete after recovery", r["window_id"])
		}
	}
	for _, r := range reps {
		if r["drifted"].(bool) {
			t.Errorf("window %v drifted", r["window_id"])
		}
	}
	if n := len(g.retrains()); n != 0 {
		t.Errorf("%d retrain requests", n)
	}
}

// A long outage: each worker keeps at most a window of events and drops
// the rest as lost, which the next window reports.
func TestLongOutageCountsLostEvents(t *testing.T) {
	p := testProfile(t, 50_000)
	cfg := testConfig()
	cfg.WindowEvents, cfg.FlushEvents, cfg.MinWindowEvents = 1000, 100, 100
	cfg.RedisTimeout = 500 * time.Millisecond
	g := newGroup(t, cfg, p, 3)
	gen := newGen(52)
	g.redis.Kill()
	if errs := g.feed(gen, 9000); len(errs) == 0 {
		t.Fatal("no flush errors")
	}
	g.redis.Start()
	g.waitRedis()
	if errs := g.feed(gen, 3000); len(errs) > 0 {
		t.Fatal(errs)
	}
	reps := g.reports()
	if len(reps) == 0 {
		t.Fatal("no reports")
	}
	var lost int64
	for _, r := range reps {
		lost += r["lost_events"].(int64)
	}
	first := reps[0]
	t.Logf("first window after the outage: %d events, %d lost, incomplete %v", first["events"], first["lost_events"], first["incomplete"])
	if !first["incomplete"].(bool) || lost == 0 {
		t.Errorf("lost %d, incomplete %v", lost, first["incomplete"])
	}
	if got := lost + sumEvents(reps) + g.openEvents(); got != 12_000 {
		t.Errorf("lost + reported + open = %d, want 12000", got)
	}
}

func sumEvents(reps []map[string]any) (n int64) {
	for _, r := range reps {
		n += r["events"].(int64)
	}
	return n
}
