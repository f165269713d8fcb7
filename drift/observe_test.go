package drift

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestObserveDoesNotAllocate(t *testing.T) {
	m, err := NewMonitor(testConfig(), "fraud", "3", testProfile(t, 5000), nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	rec, score := newGen(71).next()
	values := fieldsOf(testNames, rec)
	if a := testing.AllocsPerRun(1000, func() {
		if m.Sample() {
			m.Observe(testNames, values, score)
		}
	}); a != 0 {
		t.Errorf("Sample and Observe allocate %v times per event", a)
	}
}

func TestBinning(t *testing.T) {
	p := &Profile{Format: 1,
		Numeric:     []NumericProfile{{Name: "a", Edges: []float64{0, 1}, Proportions: []float64{0.2, 0.5, 0.3}, Count: 10}},
		Categorical: []CategoricalProfile{{Name: "c", Categories: []string{"x", "y"}, Proportions: []float64{0.5, 0.5}, Count: 10}},
	}
	l := newLayout(p)
	a, c := &l.feats[0], &l.feats[1]
	for _, tc := range []struct {
		v    any
		want int32
	}{
		{-1.0, 0}, {0.0, 0}, {0.5, 1}, {1.0, 1}, {1.5, 2}, {float32(2), 2}, {int64(-3), 0}, {int32(1), 1},
		{true, 1}, {false, 0}, {nil, 3}, {math.NaN(), 3}, {math.Inf(1), 3}, {"1", 3},
		{map[string]any{"double": 0.5}, 1}, {map[string]any{}, 3},
	} {
		if got := a.binOf(tc.v); got != tc.want {
			t.Errorf("numeric bin of %#v = %d, want %d", tc.v, got, tc.want)
		}
	}
	off := c.off
	for _, tc := range []struct {
		v    any
		want int32
	}{
		{"x", 0}, {"y", 1}, {"z", 2}, {nil, 3}, {1.0, 3}, {map[string]any{"string": "y"}, 1},
	} {
		if got := c.binOf(tc.v) - off; got != tc.want {
			t.Errorf("categorical bin of %#v = %d, want %d", tc.v, got, tc.want)
		}
	}
	if l.bins != 8 || c.ref[0] != 5 || a.ref[2] != 3 {
		t.Errorf("layout: %d bins, refs %v %v", l.bins, a.ref, c.ref)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	d := Config{}.WithDefaults()
	if d.WindowEvents != 5000 || d.WindowDuration.Seconds() != 60 || d.FlushEvents != 500 || d.PSIThreshold != 0.2 ||
		d.PValue != 0.01 || d.RetrainK != 2 || d.RetrainM != 3 || d.Cooldown.Hours() != 1 {
		t.Errorf("defaults %+v", d)
	}
	for name, c := range map[string]Config{
		"p_value":   {PValue: 1.5},
		"retrain_k": {RetrainK: 4, RetrainM: 3},
		"events":    {WindowEvents: -1},
		"flush":     {FlushInterval: 2 * d.WindowDuration},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	m, err := NewMonitor(testConfig(), "fraud", "3", testProfile(b, 5000), nil, newCaptureSink())
	if err != nil {
		b.Fatal(err)
	}
	g := newGen(72)
	values := make([][]any, 1024)
	scores := make([]float32, len(values))
	for i := range values {
		var rec map[string]any
		rec, scores[i] = g.next()
		values[i] = fieldsOf(testNames, rec)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if m.Sample() {
				m.Observe(testNames, values[i%len(values)], scores[i%len(values)])
			}
			i++
		}
	})
}

func BenchmarkObserveHot(b *testing.B) {
	m, err := NewMonitor(testConfig(), "fraud", "3", testProfile(b, 5000), nil, newCaptureSink())
	if err != nil {
		b.Fatal(err)
	}
	rec, score := newGen(72).next()
	values := fieldsOf(testNames, rec)
	b.ReportAllocs()
	for b.Loop() {
		if m.Sample() {
			m.Observe(testNames, values, score)
		}
	}
}

func TestActiveSwitchesMonitors(t *testing.T) {
	p := testProfile(t, 5000)
	a, b := mustMonitor(t, p, "1"), mustMonitor(t, p, "2")
	var act Active
	rec, score := newGen(73).next()
	offer(&act, rec, score) // dropped: no monitor yet
	act.Observe(testNames, fieldsOf(testNames, rec), score)
	if prev := act.Set(a); prev != nil {
		t.Fatal("previous monitor from zero Active")
	}
	offer(&act, rec, score)
	if prev := act.Set(b); prev != a {
		t.Fatal("Set did not return the previous monitor")
	}
	offer(&act, rec, score)
	offer(&act, rec, score)
	if a.acc.n != 1 || b.acc.n != 2 {
		t.Errorf("counts %d and %d, want 1 and 2", a.acc.n, b.acc.n)
	}
}

func mustMonitor(t *testing.T, p *Profile, version string) *Monitor {
	t.Helper()
	m, err := NewMonitor(testConfig(), "fraud", version, p, nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSampleEveryObservesOneInK(t *testing.T) {
	cfg := testConfig()
	cfg.SampleEvery = 4
	m, err := NewMonitor(cfg, "fraud", "3", testProfile(t, 5000), nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(72)
	for range 800 {
		offerNext(m, g)
	}
	m.mu.Lock()
	n := m.acc.n
	m.mu.Unlock()
	if n != 200 {
		t.Fatalf("observed %d of 800 events with sample_every 4, want 200", n)
	}
	cfg.SampleEvery = -1
	if err := cfg.Validate(); err == nil {
		t.Fatal("sample_every -1 was accepted")
	}
}

// TestMaxRateRaisesSampling: above max_rate events per second the tap bins
// one event in ceil(rate/max_rate), never fewer than sample_every asks,
// and bins every event again once the rate falls.
func TestMaxRateRaisesSampling(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRate = 1000
	cfg.SampleEvery = 2
	reg := prometheus.NewRegistry()
	m, err := NewMonitor(cfg, "fraud", "3", testProfile(t, 5000), nil, newCaptureSink(), WithMetrics(NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(73)
	observe := func(n int) int64 {
		m.mu.Lock()
		before := m.acc.n
		m.mu.Unlock()
		for range n {
			offerNext(m, g)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.acc.n - before
	}
	gauge := func() float64 { return testutil.ToFloat64(m.met.sampleEvery.WithLabelValues("fraud")) }
	t0 := time.Unix(1000, 0)
	m.adapt(t0) // starts the first measurement
	if got := observe(1000); got != 500 || gauge() != 2 {
		t.Fatalf("before any rate is known: binned %d of 1000, gauge %v; want 500 (sample_every 2)", got, gauge())
	}
	observe(9000) // 10000 events in the second: 10 times max_rate
	m.adapt(t0.Add(time.Second))
	if got := observe(5000); got != 500 || gauge() != 10 {
		t.Fatalf("at 10000/s: binned %d of 5000, gauge %v; want 500 (one in 10)", got, gauge())
	}
	m.adapt(t0.Add(3 * time.Second)) // 5000 events over 2 s: 2.5 times max_rate
	if got := observe(3000); got != 1000 || gauge() != 3 {
		t.Fatalf("at 2500/s: binned %d of 3000, gauge %v; want 1000 (one in 3)", got, gauge())
	}
	m.adapt(t0.Add(13 * time.Second)) // 300/s: back to sample_every
	if got := observe(1000); got != 500 || gauge() != 2 {
		t.Fatalf("at 300/s: binned %d of 1000, gauge %v; want 500", got, gauge())
	}

	cfg.MaxRate = -1 // every event, however fast
	m2, err := NewMonitor(cfg, "fraud", "3", testProfile(t, 5000), nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	m2.adapt(t0)
	for range 100000 {
		offerNext(m2, g)
	}
	m2.adapt(t0.Add(time.Second))
	if k := m2.every.Load(); k != 2 {
		t.Fatalf("max_rate -1 sampled one in %d at 100000/s", k)
	}
	cfg.MaxRate = -2
	if err := cfg.Validate(); err == nil {
		t.Fatal("max_rate -2 was accepted")
	}
}

// TestActiveSamplesLikeItsMonitor: the events Active picks and shows its
// monitor are binned exactly as the monitor would bin them offered
// directly, and Active samples nothing until it has a monitor.
func TestActiveSamplesLikeItsMonitor(t *testing.T) {
	cfg := testConfig()
	cfg.SampleEvery = 3
	a, err := NewMonitor(cfg, "fraud", "3", testProfile(t, 5000), nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMonitor(cfg, "fraud", "3", testProfile(t, 5000), nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	var active Active
	g := newGen(74)
	for range 300 {
		rec, score := g.next()
		if active.Sample() {
			t.Fatal("Active without a monitor sampled an event")
		}
		offer(a, rec, score)
		offer(b, rec, score)
	}
	active.Set(b)
	picked := 0
	for range 300 {
		rec, score := g.next()
		offer(a, rec, score)
		if active.Sample() {
			picked++
			active.Observe(testNames, fieldsOf(testNames, rec), score)
		}
	}
	if picked != 100 {
		t.Fatalf("Active picked %d of 300 with sample_every 3", picked)
	}
	a.mu.Lock()
	b.mu.Lock()
	defer a.mu.Unlock()
	defer b.mu.Unlock()
	if a.acc.n != 200 || b.acc.n != 200 || !slices.Equal(a.acc.c, b.acc.c) {
		t.Fatalf("the monitor binned %d events, through Active %d; counts equal: %v", a.acc.n, b.acc.n, slices.Equal(a.acc.c, b.acc.c))
	}
}

// Observe bins a record by its field names, whatever order its writer
// schema gives them in, and a feature the names lack counts as missing.
func TestObserveBinsByName(t *testing.T) {
	p := testProfile(t, 5000)
	inOrder, err := NewMonitor(testConfig(), "fraud", "3", p, nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	varied, err := NewMonitor(testConfig(), "fraud", "3", p, nil, newCaptureSink())
	if err != nil {
		t.Fatal(err)
	}
	var active Active
	active.Set(varied)
	g := newGen(75)
	// Two schemas: the second writes its fields in reverse and lacks "x3".
	first := testNames
	second := []string{"emb", "income", "channel", "flag", "x5", "x4", "x2", "x1", "x0"}
	for i := range 600 {
		rec, score := g.next()
		names := first
		if i%3 == 2 {
			names = second
			delete(rec, "x3")
		}
		inOrder.Observe(first, fieldsOf(first, rec), score)
		if i%2 == 0 {
			varied.Observe(names, fieldsOf(names, rec), score)
		} else {
			active.Observe(names, fieldsOf(names, rec), score)
		}
	}
	if inOrder.acc.n != 600 || varied.acc.n != 600 || !slices.Equal(inOrder.acc.c, varied.acc.c) {
		t.Fatalf("binned %d events in schema order, %d in varied orders; counts equal: %v", inOrder.acc.n, varied.acc.n, slices.Equal(inOrder.acc.c, varied.acc.c))
	}
	x3 := varied.lay.feats[slices.IndexFunc(varied.lay.feats, func(b binner) bool { return b.name == "x3" })]
	if missing := varied.acc.c[x3.off+x3.nb-1]; missing != 200 {
		t.Fatalf("x3 missing in %d events, want the 200 of the second schema", missing)
	}
	rec, score := g.next()
	values := fieldsOf(first, rec)
	if allocs := testing.AllocsPerRun(100, func() { varied.Observe(first, values, score) }); allocs > 0 {
		t.Fatalf("Observe allocates %v times for a known schema", allocs)
	}
}
