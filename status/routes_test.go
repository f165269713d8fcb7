package status

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// routeMetrics registers one route's series as server does: the worker's
// collectors under a registerer that adds route="<name>".
func routeMetrics(reg prometheus.Registerer, name string) (consumed, produced prometheus.Counter, lag, inFlight prometheus.Gauge, e2e prometheus.Histogram) {
	r := prometheus.WrapRegistererWith(prometheus.Labels{"route": name}, reg)
	consumed = prometheus.NewCounter(prometheus.CounterOpts{Name: mConsumed})
	produced = prometheus.NewCounter(prometheus.CounterOpts{Name: mPredictions})
	lag = prometheus.NewGauge(prometheus.GaugeOpts{Name: mLag})
	inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: mInFlight})
	e2e = prometheus.NewHistogram(prometheus.HistogramOpts{Name: mEndToEnd, Buckets: []float64{0.01, 0.1, 1}})
	r.MustRegister(consumed, produced, lag, inFlight, e2e)
	return
}

// With two routes, the totals add both routes' series (lag, in flight,
// latency histograms included), and each route has a row of its own.
func TestStatusOfTwoRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	ac, ap, al, ai, ae := routeMetrics(reg, "fraud")
	bc, bp, bl, bi, be := routeMetrics(reg, "churn")
	s := newSampler(t, reg, Config{Window: 10 * time.Second})
	t0 := time.Unix(1_700_000_000, 0)
	if err := s.Sample(t0); err != nil {
		t.Fatal(err)
	}
	ac.Add(1000)
	ap.Add(900)
	bc.Add(200)
	bp.Add(200)
	al.Set(50)
	bl.Set(7)
	ai.Set(30)
	bi.Set(3)
	for range 100 {
		ae.Observe(0.005)
		be.Observe(0.5)
	}
	if err := s.Sample(t0.Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if !near(st.Throughput.In, 120) || !near(st.Throughput.Out, 110) || !near(st.Lag, 57) || !near(st.InFlight, 33) {
		t.Errorf("totals: in %v out %v lag %v in flight %v, want 120, 110, 57, 33", st.Throughput.In, st.Throughput.Out, st.Lag, st.InFlight)
	}
	if p50, p99 := float64(st.Latency.P50), float64(st.Latency.P99); !(p50 <= 0.1) || !(p99 > 0.1) {
		t.Errorf("p50 %v, p99 %v: the histograms of both routes were not added", p50, p99)
	}
	if len(st.Routes) != 2 {
		t.Fatalf("routes %+v", st.Routes)
	}
	churn, fraud := st.Routes[0], st.Routes[1]
	if churn.Name != "churn" || !near(churn.In, 20) || churn.OutTotal != 200 || !near(churn.Lag, 7) ||
		fraud.Name != "fraud" || !near(fraud.In, 100) || !near(fraud.Out, 90) || !near(fraud.InFlight, 30) {
		t.Errorf("routes %+v", st.Routes)
	}
}
