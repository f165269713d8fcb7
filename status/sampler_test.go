package status

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics is a registry with the series the sampler reads, driven by hand.
type metrics struct {
	reg                *prometheus.Registry
	consumed, produced prometheus.Counter
	dead               *prometheus.CounterVec
	e2e, batch         prometheus.Histogram
	lag                prometheus.Gauge
	queue              *prometheus.GaugeVec
	info, versions     *prometheus.GaugeVec
	score              *prometheus.GaugeVec
	windows, retrains  *prometheus.CounterVec
}

func newMetrics(t *testing.T) *metrics {
	t.Helper()
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		consumed: prometheus.NewCounter(prometheus.CounterOpts{Name: mConsumed}),
		produced: prometheus.NewCounter(prometheus.CounterOpts{Name: mPredictions}),
		dead:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: mDeadLetters}, []string{"reason"}),
		e2e:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: mEndToEnd, Buckets: []float64{0.01, 0.02, 0.05, 0.1}}),
		batch:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: mBatchSize, Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		lag:      prometheus.NewGauge(prometheus.GaugeOpts{Name: mLag}),
		queue:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mQueueDepth}, []string{"stage"}),
		info:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mModelInfo}, []string{"model", "version"}),
		versions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mVersionInfo}, []string{"model", "version", "stage"}),
		score:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mDriftScore}, []string{"model", "feature", "test"}),
		windows:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: mWindows}, []string{"model", "drifted"}),
		retrains: prometheus.NewCounterVec(prometheus.CounterOpts{Name: mRetrains}, []string{"model"}),
	}
	m.reg.MustRegister(m.consumed, m.produced, m.dead, m.e2e, m.batch, m.lag, m.queue, m.info, m.versions, m.score, m.windows, m.retrains)
	return m
}

func newSampler(t *testing.T, g prometheus.Gatherer, cfg Config) *Sampler {
	t.Helper()
	s, err := NewSampler(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(got Num, want float64) bool {
	return !math.IsNaN(float64(got)) && math.Abs(float64(got)-want) < 1e-9
}

// Rates and percentiles cover the sliding window only: what happened
// before it does not count.
func TestStatusWindow(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{Window: 10 * time.Second})
	t0 := time.Unix(1_700_000_000, 0)

	if st := s.Status(); !math.IsNaN(float64(st.Throughput.In)) || len(st.Series.T) != 0 {
		t.Fatalf("before any sample: %+v", st.Throughput)
	}
	// Before the window: slow events and big batches.
	for range 1000 {
		m.e2e.Observe(0.09)
	}
	m.batch.Observe(512)
	m.consumed.Add(5000)
	m.produced.Add(5000)
	if err := s.Sample(t0); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); !math.IsNaN(float64(st.Throughput.In)) || st.Throughput.InTotal != 5000 {
		t.Fatalf("after one sample: in %v (want null), total %v", st.Throughput.In, st.Throughput.InTotal)
	}
	// Then 15 seconds of 100 events/s in, 90 out, all fast, batches of 4.
	for sec := 1; sec <= 15; sec++ {
		m.consumed.Add(100)
		m.produced.Add(90)
		for range 10 {
			m.e2e.Observe(0.015)
		}
		m.batch.Observe(4)
		m.dead.WithLabelValues("missing_field").Add(2)
		if err := s.Sample(t0.Add(time.Duration(sec) * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	m.lag.Set(42)
	m.queue.WithLabelValues("batch").Set(7)
	st := s.Status()
	if !near(st.Throughput.In, 100) || !near(st.Throughput.Out, 90) {
		t.Errorf("throughput in %v out %v, want 100 and 90", st.Throughput.In, st.Throughput.Out)
	}
	// 100 observations of 0.015 in (0.01, 0.02]: linear inside the bucket.
	if !near(st.Latency.P50, 0.015) || !near(st.Latency.P99, 0.0199) {
		t.Errorf("latency p50 %v p99 %v, want 0.015 and 0.0199", st.Latency.P50, st.Latency.P99)
	}
	if !near(st.BatchSizeMean, 4) {
		t.Errorf("mean batch %v, want 4", st.BatchSizeMean)
	}
	if len(st.DeadLetters) != 1 || st.DeadLetters[0].Reason != "missing_field" || st.DeadLetters[0].Total != 30 || !near(st.DeadLetters[0].Rate, 2) {
		t.Errorf("dead letters %+v, want missing_field 30 at 2/s", st.DeadLetters)
	}
	if len(st.Series.T) != 15 || len(st.Series.In) != 15 {
		t.Errorf("series has %d points, want one per sample after the first (15)", len(st.Series.T))
	}
	// The first point covers the first second only: the slow events came before it.
	if !near(st.Series.In[0], 100) || !near(st.Series.P99[0], 0.0199) {
		t.Errorf("first point in %v p99 %v, want 100 and 0.0199", st.Series.In[0], st.Series.P99[0])
	}
	// Lag and queues are read at the sample, not at Status.
	if !math.IsNaN(float64(st.Lag)) && st.Lag != 0 {
		t.Errorf("lag %v before it was sampled", st.Lag)
	}
	if err := s.Sample(t0.Add(16 * time.Second)); err != nil {
		t.Fatal(err)
	}
	st = s.Status()
	if st.Lag != 42 || st.Queues["batch"] != 7 {
		t.Errorf("lag %v queues %v, want 42 and batch 7", st.Lag, st.Queues)
	}
	// No events in the last second: the rate over the window falls.
	if !near(st.Throughput.In, 90) {
		t.Errorf("throughput after an idle second %v, want 90", st.Throughput.In)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("status JSON does not parse: %v\n%s", err, b)
	}
}

// A restarted worker (counters back near zero) does not give negative
// rates.
func TestStatusCounterReset(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{})
	t0 := time.Unix(1_700_000_000, 0)
	m.consumed.Add(1000)
	_ = s.Sample(t0)
	m2 := newMetrics(t)
	m2.consumed.Add(30)
	s.g = m2.reg
	_ = s.Sample(t0.Add(3 * time.Second))
	if st := s.Status(); !near(st.Throughput.In, 10) {
		t.Fatalf("rate across a restart %v, want 10", st.Throughput.In)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	m := newMetrics(t)
	s := newSampler(t, m.reg, Config{History: 5, Window: 2 * time.Second})
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 20 {
		m.consumed.Add(10)
		_ = s.Sample(t0.Add(time.Duration(i) * time.Second))
	}
	st := s.Status()
	if len(st.Series.T) != 4 {
		t.Fatalf("%d points kept, want 4 (5 samples)", len(st.Series.T))
	}
	if !near(st.Throughput.In, 10) {
		t.Fatalf("in %v, want 10", st.Throughput.In)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"negative interval", Config{Interval: -time.Second}, false},
		{"window shorter than interval", Config{Interval: 2 * time.Second, Window: time.Second}, false},
		{"one sample of history", Config{History: 1}, false},
		{"negative events", Config{Events: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSampler(prometheus.NewRegistry(), tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("NewSampler(%+v) = %v, want ok %v", tt.cfg, err, tt.ok)
			}
		})
	}
}
