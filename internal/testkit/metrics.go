package testkit

import "github.com/prometheus/client_golang/prometheus"

// Value reads the series of family name on g whose labels include the
// given name-value pairs (labels: "topic", "features", ...): the first
// such series' value (a counter's, gauge's or untyped metric's) and
// whether there is one.
func Value(g prometheus.Gatherer, name string, labels ...string) (float64, bool) {
	mfs, _ := g.Gather() // what could be gathered: a test's registry does not fail

	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if ls[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Sum adds up every series of family name on g (0 when there is none).
func Sum(g prometheus.Gatherer, name string) float64 {
	mfs, _ := g.Gather()

	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return sum
}
