package drift

import (
	"math"
	"testing"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", name, got, want, tol)
	}
}

func TestKolmogorovQ(t *testing.T) {
	// Critical values of the Kolmogorov distribution (Smirnov's table) and
	// K(0.5), K(1) from its series.
	for _, c := range []struct{ x, q, tol float64 }{
		{0.5, 1 - 0.036055, 1e-5},
		{1.0, 0.2699996716, 1e-8},
		{1.2238478, 0.10, 1e-5},
		{1.3580986, 0.05, 1e-5},
		{1.6276236, 0.01, 1e-5},
		{1.9495, 0.001, 2e-5},
		{0, 1, 0},
		{10, 0, 1e-12},
	} {
		near(t, "Q", kolmogorovQ(c.x), c.q, c.tol)
	}
	// The two forms agree where they meet.
	for _, x := range []float64{0.9, 1.1, 1.18, 1.3, 1.6} {
		w := math.Pi * math.Pi / (8 * x * x)
		var theta float64
		for j := 1; j <= 30; j++ {
			k := float64(2*j - 1)
			theta += math.Exp(-k * k * w)
		}
		var alt float64
		for j := 1; j <= 100; j++ {
			alt += math.Pow(-1, float64(j-1)) * 2 * math.Exp(-2*float64(j*j)*x*x)
		}
		near(t, "theta vs alternating", 1-math.Sqrt(2*math.Pi)/x*theta, alt, 1e-12)
	}
}

func TestChi2Survival(t *testing.T) {
	// Closed forms: k=1 erfc(sqrt(x/2)); k=2 exp(-x/2); k=3 adds
	// sqrt(2x/π)exp(-x/2); k=4 exp(-x/2)(1+x/2). They cover the series
	// (x < a+1) and the continued fraction.
	for _, x := range []float64{0.01, 0.5, 1, 2, 3.5, 7, 15, 40, 90} {
		e := math.Exp(-x / 2)
		near(t, "k=1", chi2Survival(x, 1), math.Erfc(math.Sqrt(x/2)), 1e-12)
		near(t, "k=2", chi2Survival(x, 2), e, 1e-12)
		near(t, "k=3", chi2Survival(x, 3), math.Erfc(math.Sqrt(x/2))+math.Sqrt(2*x/math.Pi)*e, 1e-12)
		near(t, "k=4", chi2Survival(x, 4), e*(1+x/2), 1e-12)
	}
	// Table critical values.
	for _, c := range []struct{ x, k, p float64 }{
		{3.841459, 1, 0.05},
		{6.634897, 1, 0.01},
		{18.307038, 10, 0.05},
		{36.190869, 19, 0.01},
		{86.661, 50, 0.001},
	} {
		near(t, "critical", chi2Survival(c.x, c.k), c.p, 2e-6)
	}
}

func TestPSI(t *testing.T) {
	near(t, "psi", psi([]float64{0.5, 0.5}, []float64{0.25, 0.75}), 0.25*math.Log(2)+0.25*math.Log(1.5), 1e-15)
	near(t, "same", psiCounts([]float64{10, 20, 30}, []float64{10, 20, 30}), 0, 1e-15)
	// Smoothing: bins empty on one side give a finite value; bins empty
	// on both are ignored.
	got := psiCounts([]float64{50, 50, 0, 0}, []float64{0, 50, 50, 0})
	p := []float64{50.5 / 101.5, 50.5 / 101.5, 0.5 / 101.5}
	q := []float64{0.5 / 101.5, 50.5 / 101.5, 50.5 / 101.5}
	near(t, "smoothed", got, psi(p, q), 1e-12)
	if math.IsInf(got, 0) || math.IsNaN(got) {
		t.Fatalf("smoothed psi = %v", got)
	}
}

func TestKSBinned(t *testing.T) {
	d, p := ksBinned([]float64{50, 50}, []float64{25, 75})
	near(t, "D", d, 0.25, 1e-15)
	ne := 50.0
	near(t, "p", p, kolmogorovQ((math.Sqrt(ne)+0.12+0.11/math.Sqrt(ne))*0.25), 1e-15)
	// Fractional reference counts (proportion times n) and the largest gap
	// in the middle of the CDF.
	d, _ = ksBinned([]float64{100, 100, 100, 100}, []float64{10, 10, 70, 10})
	near(t, "D mid", d, 0.3, 1e-15)
	if d, p := ksBinned([]float64{1, 2}, []float64{0, 0}); d != 0 || p != 1 {
		t.Errorf("empty live: D=%v p=%v", d, p)
	}
}

func TestChi2Homogeneity(t *testing.T) {
	// 2x2 by hand: expected 12, 18 / 28, 42.
	stat, dof, p := chi2Homogeneity([]float64{10, 20}, []float64{30, 40})
	want := 4.0/12 + 4.0/18 + 4.0/28 + 4.0/42
	near(t, "stat", stat, want, 1e-12)
	if dof != 1 {
		t.Errorf("dof = %d", dof)
	}
	near(t, "p", p, math.Erfc(math.Sqrt(want/2)), 1e-12)
	// Sparse bins are pooled: the last two (expected < 5) become one.
	stat, dof, _ = chi2Homogeneity([]float64{500, 500, 2, 2}, []float64{500, 500, 3, 1})
	if dof != 2 {
		t.Errorf("pooled dof = %d, want 2", dof)
	}
	near(t, "pooled stat", stat, 0, 1e-12)
	// Empty on both sides is dropped, not divided by zero.
	_, dof, p = chi2Homogeneity([]float64{100, 0, 100}, []float64{100, 0, 100})
	if dof != 1 || p != 1 && math.Abs(p-1) > 1e-12 {
		t.Errorf("dof=%d p=%v", dof, p)
	}
}
