package status

import (
	"math"
	"time"
)

// rate is the per-second increase of a counter from a to b, or NaN when
// no time passed. A counter that went down (a restart) counts from zero.
func rate(a, b float64, from, to time.Time) float64 {
	secs := to.Sub(from).Seconds()
	if secs <= 0 {
		return math.NaN()
	}
	d := b - a
	if d < 0 {
		d = b
	}
	return d / secs
}

// delta is the histogram of the observations made between a and b. When
// b's buckets do not match a's, or b is behind a (a restart), b alone is
// the delta.
func delta(a, b hist) hist {
	if len(a.upper) != len(b.upper) || b.count < a.count {
		return b
	}
	d := hist{upper: b.upper, cum: make([]float64, len(b.cum)), count: b.count - a.count, sum: b.sum - a.sum}
	for i := range b.cum {
		if b.upper[i] != a.upper[i] || b.cum[i] < a.cum[i] {
			return b
		}
		d.cum[i] = b.cum[i] - a.cum[i]
	}
	return d
}

// quantile estimates the q-quantile (0 ≤ q ≤ 1) of h the way Prometheus's
// histogram_quantile does: find the bucket holding rank q·count and
// interpolate linearly inside it, the first bucket starting at 0 (or at
// its upper bound when that is negative). A rank in the +Inf bucket
// answers the largest finite bound. It is NaN for an empty histogram.
func quantile(q float64, h hist) float64 {
	if h.count <= 0 || len(h.upper) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	rank := q * h.count
	for i, up := range h.upper {
		if h.cum[i] < rank || (h.cum[i] == 0 && rank == 0) {
			continue
		}
		lo, below := 0.0, 0.0
		if i > 0 {
			lo, below = h.upper[i-1], h.cum[i-1]
		} else if up < 0 {
			lo = up
		}
		if math.IsInf(up, 1) {
			return lo
		}
		in := h.cum[i] - below
		if in <= 0 {
			return up
		}
		return lo + (up-lo)*(rank-below)/in
	}
	// The rank is above every finite bucket: the observation is in +Inf.
	return h.upper[len(h.upper)-1]
}

// mean is sum/count of h, NaN when h is empty.
func mean(h hist) float64 {
	if h.count <= 0 {
		return math.NaN()
	}
	return h.sum / h.count
}
