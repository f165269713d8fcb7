package registry

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// RefusalReasons is the fixed set of values the reason label of
// sluice_model_refused_total takes.
var RefusalReasons = []string{"too_large", "checksum", "missing", "corrupt", "signature", "schema"}

// Metrics are the Watcher's series. A nil *Metrics records nothing. Its
// methods are safe for concurrent use.
type Metrics struct {
	swaps   *prometheus.CounterVec
	refused *prometheus.CounterVec
	info    *prometheus.GaugeVec
	load    *prometheus.HistogramVec
	checks  *prometheus.CounterVec
	hold    *prometheus.GaugeVec
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered). Labels take their values from configuration (the model
// name), the registry's version numbers (only the versions being served
// are kept) and fixed sets (stage, reason).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		swaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_model_swaps_total",
			Help: "Model versions this worker swapped in, by the stage they serve (production, canary, shadow).",
		}, []string{"model", "stage"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_model_refused_total",
			Help: "Model versions this worker refused to serve, by the check they failed.",
		}, []string{"model", "reason"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_model_version_info",
			Help: "1 for each model version this worker serves, by stage (production, canary, shadow).",
		}, []string{"model", "version", "stage"}),
		load: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_model_load_seconds",
			Help:    "Time to fetch, check, load and warm up a model version before it is swapped in.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14), // 10ms .. 80s
		}, []string{"model"}),
		hold: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_model_held_info",
			Help: "1 for each model version the registry assigns to a stage that this worker does not serve: state refused (reason: the check it failed) or waiting (reason input_schema).",
		}, []string{"model", "version", "stage", "state", "reason"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_model_check_errors_total",
			Help: "Registry checks that failed (Redis unreachable, a swap cut short); the current versions keep serving.",
		}, []string{"model"}),
	}
	if reg != nil {
		reg.MustRegister(m.swaps, m.refused, m.info, m.load, m.checks, m.hold)
	}
	return m
}

func (m *Metrics) swapped(model string, stage Stage, old, version string) {
	if m == nil {
		return
	}
	m.swaps.WithLabelValues(model, string(stage)).Inc()
	m.served(model, stage, old, version)
}

// served moves the info series of a stage from old to version ("" none).
func (m *Metrics) served(model string, stage Stage, old, version string) {
	if m == nil {
		return
	}
	if old != "" {
		m.info.DeleteLabelValues(model, old, string(stage))
	}
	if version != "" {
		m.info.WithLabelValues(model, version, string(stage)).Set(1)
	}
}

func (m *Metrics) refuse(model, reason string) {
	if m != nil {
		m.refused.WithLabelValues(model, reason).Inc()
	}
}

// held replaces the model's sluice_model_held_info series with hs.
func (m *Metrics) held(model string, hs []Held) {
	if m == nil {
		return
	}
	m.hold.DeletePartialMatch(prometheus.Labels{"model": model})
	for _, h := range hs {
		reason := "input_schema"
		if h.State == HeldRefused {
			reason, _, _ = strings.Cut(h.Reason, ":")
		}
		m.hold.WithLabelValues(model, h.Version, string(h.Stage), h.State, reason).Set(1)
	}
}

func (m *Metrics) checkFailed(model string) {
	if m != nil {
		m.checks.WithLabelValues(model).Inc()
	}
}

func (m *Metrics) loaded(model string, seconds float64) {
	if m != nil {
		m.load.WithLabelValues(model).Observe(seconds)
	}
}

// init makes every refusal reason of a model visible at zero.
func (m *Metrics) init(model string) {
	if m == nil {
		return
	}
	for _, r := range RefusalReasons {
		m.refused.WithLabelValues(model, r)
	}
	for _, s := range watchedStages {
		m.swaps.WithLabelValues(model, string(s))
	}
	m.checks.WithLabelValues(model)
}
