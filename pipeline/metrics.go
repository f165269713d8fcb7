package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/dlq"
)

// Metrics are the worker's own series. They are registered on the registry
// passed to NewMetrics; all methods are safe for concurrent use.
type Metrics struct {
	predictions     prometheus.Counter
	deadLetters     *prometheus.CounterVec
	endToEnd        prometheus.Histogram
	processing      prometheus.Histogram
	produceRetry    prometheus.Counter
	decodeRetries   prometheus.Counter
	inferRetries    prometheus.Counter
	modelInfo       *prometheus.GaugeVec
	keepErrors      prometheus.Counter
	shadowErrors    prometheus.Counter
	shadowAgreement *prometheus.CounterVec
	partitionStuck  *prometheus.GaugeVec
	reg             prometheus.Registerer
}

// NewMetrics registers the worker's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	latencyBuckets := prometheus.ExponentialBucketsRange(0.0005, 60, 24)
	m := &Metrics{
		reg: reg,
		predictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_predictions_produced_total",
			Help: "Predictions acknowledged by the broker on the output topic.",
		}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_dead_letters_total",
			Help: "Input events acknowledged on the dead-letter topic, by reason.",
		}, []string{"reason"}),
		endToEnd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_end_to_end_latency_seconds",
			Help:    "From an event's event_time to the broker's acknowledgement of its prediction.",
			Buckets: latencyBuckets,
		}),
		processing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_processing_latency_seconds",
			Help:    "From fetching an event to the broker's acknowledgement of its prediction.",
			Buckets: latencyBuckets,
		}),
		produceRetry: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_produce_retries_total",
			Help: "Output messages written again after the writer gave up on them.",
		}),
		decodeRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_decode_retries_total",
			Help: "Decodes retried because the schema registry was unavailable.",
		}),
		inferRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_inference_retries_total",
			Help: "Batches retried or split after ONNX Runtime failed on them.",
		}),
		shadowErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_shadow_errors_total",
			Help: "Batches the shadow version failed to score.",
		}),
		shadowAgreement: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_shadow_predictions_total",
			Help: "Events scored by the shadow version, by whether its class agreed with production.",
		}, []string{"agree"}),
		keepErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_keep_errors_total",
			Help: "Batches whose inputs could not be kept for retraining.",
		}),
		partitionStuck: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_partition_stuck",
			Help: "Input partitions whose output cannot be written (paused, not committed past): the lowest offset waiting. No series while none is stuck.",
		}, []string{"topic", "partition"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_model_info",
			Help: "1 for the model version this worker serves.",
		}, []string{"model", "version"}),
	}
	for _, c := range dlq.Classes {
		m.deadLetters.WithLabelValues(string(c))
	}
	reg.MustRegister(m.predictions, m.deadLetters, m.endToEnd, m.processing,
		m.produceRetry, m.decodeRetries, m.inferRetries, m.modelInfo, m.keepErrors, m.shadowErrors, m.shadowAgreement, m.partitionStuck)
	return m
}

// queueDepth registers sluice_queue_depth{stage} read from fn at scrape time.
func (m *Metrics) queueDepth(stage string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "sluice_queue_depth",
		Help:        "Events waiting in front of a pipeline stage.",
		ConstLabels: prometheus.Labels{"stage": stage},
	}, fn))
}

// reasonLabel is the reason label of a dead letter of class c: the fixed
// set of labels never takes another value.
func reasonLabel(c dlq.Class) string {
	if dlq.Known(c) {
		return string(c)
	}
	return string(dlq.Decode)
}
