package drift

import "math"

// psiPseudoCount is the pseudo-count added to every bin (both the reference
// and the live side) before PSI is computed, so that an empty bin gives a
// large but finite term instead of an infinite one.
const psiPseudoCount = 0.5

// psi is the population stability index between two proportion vectors:
// sum((q-p) * ln(q/p)). Both must be strictly positive; use psiCounts for
// raw counts.
func psi(p, q []float64) float64 {
	var s float64
	for i := range p {
		s += (q[i] - p[i]) * math.Log(q[i]/p[i])
	}
	return s
}

// psiCounts is PSI between reference counts ref (possibly fractional:
// proportion times reference size) and live counts, with additive
// smoothing of psiPseudoCount per bin on both sides. Bins that are empty on
// both sides add nothing.
func psiCounts(ref, live []float64) float64 {
	var nr, nl float64
	k := 0
	for i := range ref {
		if ref[i] == 0 && live[i] == 0 {
			continue
		}
		nr += ref[i]
		nl += live[i]
		k++
	}
	if nr == 0 || nl == 0 {
		return 0
	}
	dr := nr + psiPseudoCount*float64(k)
	dl := nl + psiPseudoCount*float64(k)
	var s float64
	for i := range ref {
		if ref[i] == 0 && live[i] == 0 {
			continue
		}
		p := (ref[i] + psiPseudoCount) / dr
		q := (live[i] + psiPseudoCount) / dl
		s += (q - p) * math.Log(q/p)
	}
	return s
}

// ksBinned is the two-sample Kolmogorov–Smirnov test on binned data: the
// statistic D is the largest distance between the two empirical CDFs
// evaluated at the bin boundaries (bins in their order), and the p-value
// comes from the asymptotic Kolmogorov distribution at the effective sample
// size nr*nl/(nr+nl). Binning can only lower D, so the test is conservative.
func ksBinned(ref, live []float64) (d, p float64) {
	var nr, nl float64
	for i := range ref {
		nr += ref[i]
		nl += live[i]
	}
	if nr == 0 || nl == 0 {
		return 0, 1
	}
	var cr, cl float64
	for i := range ref {
		cr += ref[i]
		cl += live[i]
		if g := math.Abs(cr/nr - cl/nl); g > d {
			d = g
		}
	}
	return d, ksPValue(d, nr*nl/(nr+nl))
}

// ksPValue is P(D > d) for the two-sample statistic at effective sample
// size ne, with Stephens' small-sample correction of the argument.
func ksPValue(d, ne float64) float64 {
	if ne <= 0 || d <= 0 {
		return 1
	}
	sq := math.Sqrt(ne)
	return kolmogorovQ((sq + 0.12 + 0.11/sq) * d)
}

// kolmogorovQ is the survival function of the Kolmogorov distribution,
// Q(x) = 2 * sum_{j>=1} (-1)^(j-1) exp(-2 j^2 x^2). (gonum, which gives the
// chi-squared survival, has no Kolmogorov distribution.) For small x the series
// converges slowly, so the equivalent Jacobi theta form is used there.
func kolmogorovQ(x float64) float64 {
	if x <= 0 {
		return 1
	}
	if x < 1.18 {
		// 1 - sqrt(2π)/x * sum_{j>=1} exp(-(2j-1)^2 π^2 / (8x^2))
		w := math.Pi * math.Pi / (8 * x * x)
		var s float64
		for j := 1; j <= 20; j++ {
			k := float64(2*j - 1)
			s += math.Exp(-k * k * w)
		}
		return clamp01(1 - math.Sqrt(2*math.Pi)/x*s)
	}
	var s float64
	sign := 1.0
	for j := 1; j <= 100; j++ {
		t := math.Exp(-2 * float64(j*j) * x * x)
		s += sign * t
		if t < 1e-17 {
			break
		}
		sign = -sign
	}
	return clamp01(2 * s)
}

func clamp01(v float64) float64 {
	return math.Max(0, math.Min(1, v))
}
