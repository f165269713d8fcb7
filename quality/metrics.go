package quality

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a label, the result label of sluice_quality_labels_total.
const (
	labelJoined       = "joined"        // matched with a prediction
	labelUnmatched    = "unmatched"     // no prediction within label_wait
	labelInvalid      = "invalid"       // undecodable, or no class the model has
	labelUnknownModel = "unknown_model" // its prediction names a model not in the registry
)

// Decisions of the live policy, the decision label of
// sluice_quality_live_decisions_total.
const (
	decisionPromoted     = "promoted"
	decisionKept         = "kept"         // the challenger is worse
	decisionInconclusive = "inconclusive" // max_events without a difference
	decisionRolledBack   = "rolled_back"
)

// Metrics are the quality service's Prometheus collectors. The model label
// takes registered model names only, version at most max_versions versions
// per model (older series are deleted), stage production, canary or shadow.
// A nil *Metrics records nothing. Its methods are safe for concurrent use.
type Metrics struct {
	labelled    *prometheus.CounterVec
	auc         *prometheus.GaugeVec
	logLoss     *prometheus.GaugeVec
	accuracy    *prometheus.GaugeVec
	calibration *prometheus.GaugeVec
	mae         *prometheus.GaugeVec
	rmse        *prometheus.GaugeVec
	windows     *prometheus.CounterVec
	labels      *prometheus.CounterVec
	pending     *prometheus.GaugeVec
	predictions *prometheus.CounterVec
	requests    *prometheus.CounterVec
	decisions   *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered). It panics if they are already registered with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	vl := []string{"model", "version", "stage"}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, vl)
	}
	m := &Metrics{
		labelled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quality_labelled_total",
			Help: "Predictions joined with their label, by model, version and stage.",
		}, vl),
		auc:         gauge("sluice_quality_auc", "Live ROC AUC over the latest closed quality window (classifiers)."),
		logLoss:     gauge("sluice_quality_log_loss", "Live log-loss over the latest closed quality window (classifiers)."),
		accuracy:    gauge("sluice_quality_accuracy_ratio", "Live accuracy of the most probable class over the latest closed quality window (classifiers)."),
		calibration: gauge("sluice_quality_calibration_error", "Live expected calibration error over the latest closed quality window (classifiers)."),
		mae:         gauge("sluice_quality_mae", "Live mean absolute error over the latest closed quality window (score models)."),
		rmse:        gauge("sluice_quality_rmse", "Live root mean squared error over the latest closed quality window (score models)."),
		windows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quality_windows_total",
			Help: "Quality windows closed, by model, version, stage and whether the window was degraded.",
		}, []string{"model", "version", "stage", "degraded"}),
		labels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quality_labels_total",
			Help: "Labels read by the quality service, by result: joined, unmatched (no prediction within label_wait), invalid, unknown_model.",
		}, []string{"result"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_quality_pending",
			Help: "Predictions held for their labels (kind=predictions) and labels waiting for their prediction (kind=labels).",
		}, []string{"kind"}),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quality_predictions_read_total",
			Help: "Predictions read for the join, by source: main (the predictions topic) or shadow.",
		}, []string{"source"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quality_retrain_requests_total",
			Help: "Quality retrain requests that were due, by model and result: sent, cooldown, capped.",
		}, []string{"model", "result"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_quality_live_decisions_total",
			Help: "Decisions of the live promotion policy, by model: promoted, kept (the challenger is worse), inconclusive, rolled_back.",
		}, []string{"model", "decision"}),
	}
	for _, r := range []string{labelJoined, labelUnmatched, labelInvalid, labelUnknownModel} {
		m.labels.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.labelled, m.auc, m.logLoss, m.accuracy, m.calibration, m.mae, m.rmse,
			m.windows, m.labels, m.pending, m.predictions, m.requests, m.decisions)
	}
	return m
}

func (m *Metrics) joined(model, version, stage string) {
	if m != nil {
		m.labelled.WithLabelValues(model, version, stage).Inc()
	}
}

func (m *Metrics) window(r *Report) {
	if m == nil {
		return
	}
	set := func(g *prometheus.GaugeVec, v float64) {
		if !math.IsNaN(v) {
			g.WithLabelValues(r.Model, r.Version, r.Stage).Set(v)
		}
	}
	set(m.auc, r.AUC)
	set(m.logLoss, r.LogLoss)
	set(m.accuracy, r.Accuracy)
	set(m.calibration, r.Calibration)
	set(m.mae, r.MAE)
	set(m.rmse, r.RMSE)
	m.windows.WithLabelValues(r.Model, r.Version, r.Stage, strconv.FormatBool(r.Degraded)).Inc()
}

// forget deletes the series of a model version.
func (m *Metrics) forget(model, version string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"model": model, "version": version}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.labelled, m.auc, m.logLoss, m.accuracy, m.calibration, m.mae, m.rmse, m.windows} {
		v.DeletePartialMatch(l)
	}
}

func (m *Metrics) label(result string) {
	if m != nil {
		m.labels.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) setPending(predictions, labels int) {
	if m != nil {
		m.pending.WithLabelValues("predictions").Set(float64(predictions))
		m.pending.WithLabelValues("labels").Set(float64(labels))
	}
}

func (m *Metrics) prediction(shadow bool) {
	if m == nil {
		return
	}
	source := "main"
	if shadow {
		source = "shadow"
	}
	m.predictions.WithLabelValues(source).Inc()
}

func (m *Metrics) request(model, result string) {
	if m != nil {
		m.requests.WithLabelValues(model, result).Inc()
	}
}

func (m *Metrics) decision(model, d string) {
	if m != nil {
		m.decisions.WithLabelValues(model, d).Inc()
	}
}
