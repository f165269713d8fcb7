package drift

import "gonum.org/v1/gonum/stat/distuv"

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
	return distuv.ChiSquared{K: k}.Survival(x)
}
