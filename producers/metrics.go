package producers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/internal/promreg"
)

// Metrics are the producer-side Prometheus metrics. One Metrics may be
// shared by several Writers; it is safe for concurrent use.
type Metrics struct {
	produced *prometheus.CounterVec
	failed   *prometheus.CounterVec
	seconds  prometheus.Histogram
	topics   sync.Map // topic name → *topicMetrics, so the hot path does not hash label values
}

type topicMetrics struct {
	produced, failed prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, for tests and tools). Registering twice with one registry
// reuses the collectors already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		produced: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_messages_produced_total",
			Help: "Messages acknowledged by all in-sync replicas, by topic.",
		}, []string{"topic"})),
		failed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_produce_errors_total",
			Help: "Messages whose write failed or was not confirmed, by topic.",
		}, []string{"topic"})),
		seconds: promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_produce_seconds",
			Help:    "Duration of one synchronous Write call, until every message in it was acknowledged or failed.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5ms … 4s
		})),
	}
}

func (m *Metrics) topic(name string) *topicMetrics {
	if v, ok := m.topics.Load(name); ok {
		return v.(*topicMetrics)
	}
	tm := &topicMetrics{produced: m.produced.WithLabelValues(name), failed: m.failed.WithLabelValues(name)}
	v, _ := m.topics.LoadOrStore(name, tm)
	return v.(*topicMetrics)
}
