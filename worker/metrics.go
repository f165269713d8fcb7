package worker

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/pipeline"
)

// registerMetrics registers the series read from the reader at scrape
// time: sluice_consumer_lag_events (the status page and dashboards read
// consumer lag from it) and sluice_topic_missing{topic} for the input,
// output and dead-letter topics.
func registerMetrics(reg prometheus.Registerer, r *consumers.Reader, cfg pipeline.Config) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sluice_consumer_lag_events",
		Help: "Messages between the group's committed offsets and the ends of the partitions assigned to this worker (what kafka-consumer-groups reports as LAG).",
	}, func() float64 { return float64(r.Lag()) }))
	for _, t := range []string{cfg.InputTopic, cfg.OutputTopic, cfg.DLQTopic} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "sluice_topic_missing",
			Help:        "1 while a topic the worker needs (input, output, dead letters) does not exist; nothing is consumed meanwhile.",
			ConstLabels: prometheus.Labels{"topic": t},
		}, func() float64 {
			for _, missing := range r.Health().MissingTopics {
				if missing == t {
					return 1
				}
			}
			return 0
		}))
	}
}
