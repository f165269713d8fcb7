// Package promreg registers Prometheus collectors idempotently: a second
// registration of the same metric with one registry returns the collector
// already there, so several components built on one registry (the routes
// of a worker, a test's stages) share one series family instead of
// panicking.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns it, or returns the collector
// of the same description already registered there. A nil reg returns c
// unregistered (tests and tools). Any other registration error is a
// programming error (two metrics of one name with different labels) and
// panics, as prometheus.MustRegister does.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
