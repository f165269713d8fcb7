package drift

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are drift's Prometheus metrics. Label values come from model
// names and the profile's feature names, never from events. A nil
// *Metrics records nothing. Safe for concurrent use.
type Metrics struct {
	score       *prometheus.GaugeVec
	windows     *prometheus.CounterVec
	retrains    *prometheus.CounterVec
	suppress    *prometheus.CounterVec
	flushErrors prometheus.Counter
	sampleEvery *prometheus.GaugeVec
}

// NewMetrics registers drift's metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		score: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_drift_score",
			Help: "Drift statistic of a feature in the latest evaluated window: test=ks (KS distance), chi2 (chi-squared statistic) or psi. feature=(prediction) is the prediction score.",
		}, []string{"model", "feature", "test"}),
		windows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_drift_windows_closed_total",
			Help: "Drift windows evaluated, by whether they drifted.",
		}, []string{"model", "drifted"}),
		retrains: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_retrain_events_total",
			Help: "Retrain requests emitted.",
		}, []string{"model"}),
		suppress: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_retrain_suppressed_total",
			Help: "Retrain requests that were due but not sent, by reason: cooldown (the version asked less than drift.cooldown ago) or capped (drift.max_requests_per_hour).",
		}, []string{"model", "reason"}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_drift_flush_errors_total",
			Help: "Failed flushes of drift counts to Redis.",
		}),
		sampleEvery: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_drift_sample_every",
			Help: "The drift tap bins one event in this many (drift.sample_every, raised while the rate exceeds drift.max_rate).",
		}, []string{"model"}),
	}
	if reg != nil {
		reg.MustRegister(m.score, m.windows, m.retrains, m.suppress, m.flushErrors, m.sampleEvery)
	}
	return m
}

func (m *Metrics) window(r *Report) {
	if m == nil {
		return
	}
	m.windows.WithLabelValues(r.Model, strconv.FormatBool(r.Drifted)).Inc()
	set := func(f *FeatureResult) {
		m.score.WithLabelValues(r.Model, f.Feature, f.Test).Set(f.Statistic)
		m.score.WithLabelValues(r.Model, f.Feature, "psi").Set(f.PSI)
	}
	for i := range r.Features {
		set(&r.Features[i])
	}
	if r.Prediction != nil {
		set(r.Prediction)
	}
}

func (m *Metrics) retrain(model string) {
	if m != nil {
		m.retrains.WithLabelValues(model).Inc()
	}
}

func (m *Metrics) suppressed(model string, a Admission) {
	if m != nil {
		m.suppress.WithLabelValues(model, a.String()).Inc()
	}
}

func (m *Metrics) flushError() {
	if m != nil {
		m.flushErrors.Inc()
	}
}

func (m *Metrics) sampling(model string, k int) {
	if m != nil {
		m.sampleEvery.WithLabelValues(model).Set(float64(k))
	}
}
