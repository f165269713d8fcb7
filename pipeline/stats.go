package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/inference"
)

// Lag returns the consumer lag estimate of the worker's group reader (see
// consumers.Reader.Lag). Safe for concurrent use.
func (w *Worker) Lag() int64 { return w.reader.Lag() }

// Serving returns the name, version and signature of the model now
// serving. Safe for concurrent use.
func (w *Worker) Serving() (name, version string, sig *inference.Signature) {
	m, release := w.deps.Models.Acquire()
	defer release()
	if m == nil {
		return "", "", nil
	}
	return m.Name(), m.Version(), m.Signature()
}

// NewLagCollector returns the sluice_consumer_lag_events gauge, read from
// w.Lag at scrape time; register it on the worker's registry. The status
// page and dashboards read consumer lag from it.
func NewLagCollector(w *Worker) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sluice_consumer_lag_events",
		Help: "Messages between this worker's latest fetch and the end of that partition (an estimate from the reader's last fetch).",
	}, func() float64 { return float64(w.Lag()) })
}
