package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterTwiceSharesOneCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "sluice_test_total", Help: "A test counter."}
	a := Register(reg, prometheus.NewCounter(opts))
	b := Register(reg, prometheus.NewCounter(opts))
	if a != b {
		t.Fatal("the second registration returned a new collector, not the registered one")
	}
	b.Inc()
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Fatalf("gathered %v, %v; want one counter at 1", mfs, err)
	}
	if c := prometheus.NewCounter(opts); Register(nil, c) != c {
		t.Fatal("a nil registry did not return the collector itself")
	}
}

func TestRegisterConflictPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_test_total", Help: "h"}))
	defer func() {
		if recover() == nil {
			t.Fatal("registering a gauge over a counter of the same name did not panic")
		}
	}()
	Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_test_total", Help: "h"}))
}
