package status

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The page lists each version's live quality from the quality gauges, and
// a production version turning degraded is an event.
func TestQuality(t *testing.T) {
	reg := prometheus.NewRegistry()
	vl := []string{"model", "version", "stage"}
	gauge := func(name string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name}, vl)
		reg.MustRegister(g)
		return g
	}
	auc, holdout, degraded, labelled := gauge(mQualityAUC), gauge(mQualityHoldout), gauge(mQualityDegraded), gauge(mQualityLabelled)
	s := newSampler(t, reg, Config{Window: 10 * time.Second})
	t0 := time.Unix(1_700_000_000, 0)
	if err := s.Sample(t0); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); len(st.Quality) != 0 {
		t.Fatalf("quality before any window: %+v", st.Quality)
	}
	auc.WithLabelValues("fraud", "1", "production").Set(0.88)
	holdout.WithLabelValues("fraud", "1", "production").Set(0.90)
	degraded.WithLabelValues("fraud", "1", "production").Set(0)
	labelled.WithLabelValues("fraud", "1", "production").Set(1000)
	auc.WithLabelValues("fraud", "2", "shadow").Set(0.91)
	if err := s.Sample(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if len(st.Quality) != 2 || st.Quality[0].Version != "1" || !near(st.Quality[0].AUC, 0.88) || !near(st.Quality[0].HoldoutAUC, 0.90) ||
		!near(st.Quality[0].Labelled, 1000) || st.Quality[0].Degraded || st.Quality[1].Stage != "shadow" || !near(st.Quality[1].AUC, 0.91) {
		t.Fatalf("quality %+v", st.Quality)
	}
	auc.WithLabelValues("fraud", "1", "production").Set(0.52)
	degraded.WithLabelValues("fraud", "1", "production").Set(1)
	if err := s.Sample(t0.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	st = s.Status()
	if !st.Quality[0].Degraded || len(st.Events) == 0 || st.Events[0].Kind != "quality" ||
		!strings.Contains(st.Events[0].Text, "fraud version 1 (production): live AUC 0.520 fell below its holdout AUC 0.900") {
		t.Fatalf("quality %+v, events %+v", st.Quality, st.Events)
	}
	if err := s.Sample(t0.Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Status().Events); n != len(st.Events) {
		t.Fatalf("a degraded version that stays degraded made %d more events", n-len(st.Events))
	}
}
