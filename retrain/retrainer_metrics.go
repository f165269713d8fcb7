package retrain

import "github.com/prometheus/client_golang/prometheus"

// Results of a retrain run, the result label of sluice_retrain_runs_total.
const (
	// ResultPromoted: a new version was registered and promoted by policy.
	ResultPromoted = "promoted"
	// ResultCandidate: a new version was registered and left a candidate.
	ResultCandidate = "candidate"
	// ResultChallenger: a new version was registered and put beside
	// production as a shadow or canary (policy live).
	ResultChallenger = "challenger"
	// ResultSkipped: nothing was trained (too few labels, no production
	// version to compare with, a model that cannot be retrained).
	ResultSkipped = "skipped"
	// ResultDuplicate: the request was handled before (or is being handled
	// by another retrainer); nothing was trained.
	ResultDuplicate = "duplicate"
	// ResultFailed: the run failed on Redis, the registry or ONNX Runtime
	// after every attempt.
	ResultFailed = "failed"
)

// Outcomes of a label, the result label of sluice_retrain_labels_total.
const (
	labelJoined    = "joined"
	labelUnmatched = "unmatched" // no kept features within label_wait
	labelExpired   = "expired"   // older than feature_ttl when it arrived
	labelInvalid   = "invalid"   // undecodable or without a class
)

// Metrics are the retrainer's Prometheus collectors. A nil *Metrics records
// nothing. Its methods are safe for concurrent use.
type Metrics struct {
	runs     *prometheus.CounterVec
	seconds  prometheus.Histogram
	labels   *prometheus.CounterVec
	buffered prometheus.Gauge
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered). It panics if they are already registered with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_retrain_runs_total",
			Help: "Retrain requests handled, by model (a registered model name, else \"unknown\") and result (promoted, candidate, challenger, skipped, duplicate, failed).",
		}, []string{"model", "result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_retrain_seconds",
			Help:    "Time from taking a retrain request to registering (and promoting) the new version, for runs that trained.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12), // 0.25s .. 8.5m
		}),
		labels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_retrain_labels_total",
			Help: "Labels read, by result: joined with kept features, unmatched (no features within label_wait), expired (older than feature_ttl), invalid.",
		}, []string{"result"}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_retrain_buffered_records",
			Help: "Labelled records held for the next retrain.",
		}),
	}
	for _, r := range []string{labelJoined, labelUnmatched, labelExpired, labelInvalid} {
		m.labels.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.seconds, m.labels, m.buffered)
	}
	return m
}

func (m *Metrics) run(model, result string, seconds float64) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(model, result).Inc()
	if seconds > 0 {
		m.seconds.Observe(seconds)
	}
}

func (m *Metrics) label(result string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.labels.WithLabelValues(result).Add(float64(n))
}

func (m *Metrics) setBuffered(n int) {
	if m == nil {
		return
	}
	m.buffered.Set(float64(n))
}
