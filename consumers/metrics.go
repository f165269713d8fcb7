package consumers

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-ml/sluice/internal/promreg"
)

// Metrics are the consumer-side Prometheus metrics. One Metrics may be
// shared by several Trackers; it is safe for concurrent use.
type Metrics struct {
	consumed     prometheus.Counter
	inFlight     prometheus.Gauge
	commits      prometheus.Counter
	commitErrors prometheus.Counter
	committed    *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, for tests and tools). Registering twice with one registry
// reuses the collectors already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		consumed: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_events_consumed_total",
			Help: "Events fetched from Kafka and tracked for commit.",
		})),
		inFlight: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_in_flight_events",
			Help: "Events fetched and not yet committed: not acknowledged, or acknowledged and waiting for a commit (at most pipeline.max_in_flight).",
		})),
		commits: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_commits_total",
			Help: "Successful offset commits.",
		})),
		commitErrors: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_commit_errors_total",
			Help: "Failed offset commits (retried with the latest position).",
		})),
		committed: promreg.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_committed_offset",
			Help: "Last offset committed per partition: the next offset the group reads.",
		}, []string{"topic", "partition"})),
	}
}
