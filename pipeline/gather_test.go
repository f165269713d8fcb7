package pipeline_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-ml/sluice/inference"
)

type inferenceBatch = inference.BatchConfig

// gathered is a collector that re-exports one series of a registry, so
// testutil.ToFloat64 can read a series by name and label.
type gathered struct {
	reg   *prometheus.Registry
	name  string
	label [2]string
}

func (g gathered) Describe(ch chan<- *prometheus.Desc) {}

func (g gathered) Collect(ch chan<- prometheus.Metric) {
	mfs, err := g.reg.Gather()
	if err != nil {
		return
	}
	for _, mf := range mfs {
		if mf.GetName() != g.name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := g.label[0] == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == g.label[0] && lp.GetValue() == g.label[1] {
					match = true
				}
			}
			if !match {
				continue
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "", nil, nil), prometheus.UntypedValue, v)
			return
		}
	}
}

func testutilValue(t *testing.T, w *running, name, label, value string) float64 {
	t.Helper()
	return testutil.ToFloat64(gathered{reg: w.reg, name: name, label: [2]string{label, value}})
}
