package testworker

import (
	"testing"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/training"
)

// DemoProfile is the demo model's reference profile, built from 4,000 of
// the events it was trained on and its scores on them.
func (e *Env) DemoProfile(t testing.TB) *drift.Profile {
	t.Helper()
	gen := demo.NewGenerator(1)
	recs := make([]map[string]any, 4000)
	for i := range recs {
		recs[i] = gen.Next()
	}
	rows, err := training.Rows(e.Sig, recs)
	if err != nil {
		t.Fatal(err)
	}
	p, err := drift.BuildProfile(drift.FeaturesFromSignature(e.Sig), func(yield func(map[string]any, float32) bool) {
		for i, rec := range recs {
			if !yield(rec, e.Sig.ReadOutput(e.MLP.Forward(rows[i])).Score) {
				return
			}
		}
	}, drift.ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
