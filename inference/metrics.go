package inference

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the inference package's Prometheus collectors. A nil
// *Metrics is valid and records nothing. Its methods are safe for
// concurrent use.
type Metrics struct {
	batchSize prometheus.Histogram
	seconds   prometheus.Histogram
	provider  *prometheus.GaugeVec
	errors    prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered). It panics if they are already registered with reg, like
// prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_batch_size",
			Help:    "Rows per inference batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 .. 4096
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_inference_seconds",
			Help:    "Time one batch spends in ONNX Runtime, including copies in and out.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 2, 18), // 10µs .. 1.3s
		}),
		provider: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_inference_provider_info",
			Help: "1 for the execution provider requested in config and the one the last loaded model runs on.",
		}, []string{"requested", "effective"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_inference_errors_total",
			Help: "Inference batches that failed (bad arguments or an ONNX Runtime error).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.batchSize, m.seconds, m.provider, m.errors)
	}
	return m
}

func (m *Metrics) observeBatch(n int, seconds float64) {
	if m == nil {
		return
	}
	m.batchSize.Observe(float64(n))
	m.seconds.Observe(seconds)
}

func (m *Metrics) inferError() {
	if m != nil {
		m.errors.Inc()
	}
}

func (m *Metrics) setProvider(requested, effective Provider) {
	if m == nil {
		return
	}
	m.provider.Reset()
	m.provider.WithLabelValues(string(requested), string(effective)).Set(1)
}
