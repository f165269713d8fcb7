package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/inference"
)

// Lag returns the consumer lag of the partitions assigned to this worker:
// end offsets minus the group's committed offsets (see
// consumers.Reader.Lag). Safe for concurrent use.
func (w *Worker) Lag() int64 { return w.reader.Lag() }

// Health returns the standing of the worker's group reader: membership,
// assigned partitions, missing topics, last broker contact. Safe for
// concurrent use.
func (w *Worker) Health() consumers.Health { return w.reader.Health() }

// Serving returns the model now serving (nil when none is), to read its
// name, version, signature and outputs: the caller must not run it, since
// it may be swapped out and closed at any time. Safe for concurrent use.
func (w *Worker) Serving() *inference.Model {
	m, release := w.deps.Models.Acquire()
	defer release()
	return m
}

// NewLagCollector returns the sluice_consumer_lag_events gauge, read from
// w.Lag at scrape time; register it on the worker's registry. The status
// page and dashboards read consumer lag from it.
func NewLagCollector(w *Worker) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sluice_consumer_lag_events",
		Help: "Messages between the group's committed offsets and the ends of the partitions assigned to this worker (what kafka-consumer-groups reports as LAG).",
	}, func() float64 { return float64(w.Lag()) })
}
