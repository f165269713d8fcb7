package drift

import "math"

// chi2MinExpected is the smallest expected count a bin may have in the
// chi-squared test; bins below it are pooled into one, as the chi-squared
// approximation is poor for sparse bins.
const chi2MinExpected = 5

// chi2Homogeneity is the two-sample chi-squared test of homogeneity on a
// 2 x K table: reference counts (possibly fractional) against live counts.
// Bins whose expected live count is below chi2MinExpected are pooled.
// It returns the statistic, the degrees of freedom and the p-value.
func chi2Homogeneity(ref, live []float64) (stat float64, dof int, p float64) {
	var nr, nl float64
	for i := range ref {
		nr += ref[i]
		nl += live[i]
	}
	if nr == 0 || nl == 0 {
		return 0, 0, 1
	}
	n := nr + nl
	k := 0
	var poolR, poolL float64
	add := func(r, l float64) {
		t := r + l
		er, el := nr*t/n, nl*t/n
		stat += (r-er)*(r-er)/er + (l-el)*(l-el)/el
		k++
	}
	for i := range ref {
		t := ref[i] + live[i]
		if t == 0 {
			continue
		}
		if nl*t/n < chi2MinExpected || nr*t/n < chi2MinExpected {
			poolR += ref[i]
			poolL += live[i]
			continue
		}
		add(ref[i], live[i])
	}
	if poolR+poolL > 0 {
		add(poolR, poolL)
	}
	dof = k - 1
	if dof < 1 {
		return 0, 0, 1
	}
	return stat, dof, chi2Survival(stat, float64(dof))
}

// chi2Survival is P(X > x) for X chi-squared with k degrees of freedom.
func chi2Survival(x, k float64) float64 {
	if x <= 0 {
		return 1
	}
	return gammaQ(k/2, x/2)
}

// gammaQ is the regularised upper incomplete gamma function Q(a, x) =
// Γ(a, x)/Γ(a): a power series for x < a+1, Lentz's continued fraction
// otherwise.
func gammaQ(a, x float64) float64 {
	switch {
	case x <= 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	case x < a+1:
		return clamp01(1 - gammaPSeries(a, x))
	default:
		return clamp01(gammaQFraction(a, x))
	}
}

// logPrefix is log(x^a e^-x / Γ(a)).
func logPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return a*math.Log(x) - x - lg
}

// gammaPSeries is the lower regularised P(a, x) by its power series
// x^a e^-x / Γ(a+1) * sum_n x^n / ((a+1)...(a+n)).
func gammaPSeries(a, x float64) float64 {
	term := 1 / a
	sum := term
	for n := 1; n < 1000; n++ {
		term *= x / (a + float64(n))
		sum += term
		if math.Abs(term) < math.Abs(sum)*1e-16 {
			break
		}
	}
	return sum * math.Exp(logPrefix(a, x))
}

// gammaQFraction is Q(a, x) by the continued fraction
// e^-x x^a / Γ(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))),
// evaluated with the modified Lentz method.
func gammaQFraction(a, x float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return math.Exp(logPrefix(a, x)) * h
}
