package quality

import (
	"math"
	"math/rand/v2"
	"slices"
)

// samples are labelled predictions of one model: for classifiers the
// class probabilities (width per row) and the true class; for score models
// one score per row and the true value. It is not safe for concurrent use.
type samples struct {
	width int       // classes; 1 for a score model
	p     []float32 // width values per row
	y     []int     // true class (classifiers)
	v     []float64 // true value (score models)
}

func (s *samples) len() int { return len(s.p) / max(1, s.width) }

func (s *samples) classifier() bool { return s.width > 1 }

// addClass adds a classifier row.
func (s *samples) addClass(p []float32, y int) {
	s.p = append(s.p, p...)
	s.y = append(s.y, y)
}

// addValue adds a score model's row.
func (s *samples) addValue(score float32, v float64) {
	s.p = append(s.p, score)
	s.v = append(s.v, v)
}

// tail returns a copy of the last n rows.
func (s *samples) tail(n int) samples {
	from := max(0, s.len()-n)
	out := samples{width: s.width, p: append([]float32(nil), s.p[from*s.width:]...)}
	if s.y != nil {
		out.y = append([]int(nil), s.y[from:]...)
	}
	if s.v != nil {
		out.v = append([]float64(nil), s.v[from:]...)
	}
	return out
}

// row returns the values of row i.
func (s *samples) row(i int) []float32 { return s.p[i*s.width : (i+1)*s.width] }

// ranker computes the ROC AUC of samples under any weighting (a bootstrap
// resample is a weighting) in one pass, the rows sorted once per class:
// for two classes the AUC of the last class, for more the mean
// one-vs-rest AUC. It is not safe for concurrent use.
type ranker struct {
	s     *samples
	order [][]int // per scored class, rows by ascending probability
}

func newRanker(s *samples) *ranker {
	r := &ranker{s: s}
	classes := []int{s.width - 1}
	if s.width > 2 {
		classes = make([]int, s.width)
		for c := range classes {
			classes[c] = c
		}
	}
	for _, c := range classes {
		o := make([]int, s.len())
		for i := range o {
			o[i] = i
		}
		slices.SortFunc(o, func(a, b int) int {
			pa, pb := s.p[a*s.width+c], s.p[b*s.width+c]
			switch {
			case pa < pb:
				return -1
			case pa > pb:
				return 1
			}
			return 0
		})
		r.order = append(r.order, o)
	}
	return r
}

// auc is the AUC with row i counted w[i] times (nil: once each); NaN when
// a scored class or its complement has no weight.
func (r *ranker) auc(w []int) float64 {
	s := r.s
	total := 0.0
	for k, o := range r.order {
		c := s.width - 1
		if s.width > 2 {
			c = k
		}
		var pairs, posW, negW, negBelow float64
		for i := 0; i < len(o); {
			j := i
			var gp, gn float64
			for j < len(o) && s.p[o[j]*s.width+c] == s.p[o[i]*s.width+c] {
				wt := 1.0
				if w != nil {
					wt = float64(w[o[j]])
				}
				if s.y[o[j]] == c {
					gp += wt
				} else {
					gn += wt
				}
				j++
			}
			pairs += gp * (negBelow + gn/2)
			negBelow += gn
			posW += gp
			negW += gn
			i = j
		}
		if posW == 0 || negW == 0 {
			return math.NaN()
		}
		total += pairs / (posW * negW)
	}
	return total / float64(len(r.order))
}

// rmse is the root mean squared error of a score model's rows under w.
func rmse(s *samples, w []int) float64 {
	var sum, n float64
	for i, v := range s.v {
		wt := 1.0
		if w != nil {
			wt = float64(w[i])
		}
		d := float64(s.p[i]) - v
		sum += wt * d * d
		n += wt
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Sqrt(sum / n)
}

// calibrationBins is how many equal-width bins the calibration error uses.
const calibrationBins = 10

// Quality is what one window of labelled predictions measured. Metrics
// that cannot be measured (AUC without both classes; the classifier
// metrics of a score model and the other way round) are NaN. It is plain
// data.
type Quality struct {
	Labelled int
	// Classifiers: AUC (of the last class for two classes, the mean
	// one-vs-rest AUC for more), log-loss, accuracy of the most probable
	// class, and expected calibration error (the positive class's
	// probability for two classes, the top class's otherwise, in ten
	// equal-width bins); Positives is the number of rows of the last
	// class, MeanScore its mean probability.
	AUC, LogLoss, Accuracy, Calibration float64
	Positives                           int
	MeanScore                           float64
	// Score models: mean absolute and root mean squared error.
	MAE, RMSE float64
}

// measure computes the quality of s.
func measure(s *samples) Quality {
	nan := math.NaN()
	q := Quality{Labelled: s.len(), AUC: nan, LogLoss: nan, Accuracy: nan, Calibration: nan, MeanScore: nan, MAE: nan, RMSE: nan}
	n := float64(q.Labelled)
	if q.Labelled == 0 {
		return q
	}
	if !s.classifier() {
		var abs float64
		for i, v := range s.v {
			abs += math.Abs(float64(s.p[i]) - v)
		}
		q.MAE, q.RMSE = abs/n, rmse(s, nil)
		return q
	}
	q.AUC = newRanker(s).auc(nil)
	var ll, score float64
	correct := 0
	var binP, binY, binN [calibrationBins]float64
	for i, y := range s.y {
		p := s.row(i)
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		if best == y {
			correct++
		}
		ll -= math.Log(max(float64(p[y]), 1e-15))
		last := len(p) - 1
		score += float64(p[last])
		if y == last {
			q.Positives++
		}
		conf, hit := float64(p[last]), y == last
		if len(p) > 2 {
			conf, hit = float64(p[best]), best == y
		}
		b := min(calibrationBins-1, max(0, int(conf*calibrationBins)))
		binP[b] += conf
		binN[b]++
		if hit {
			binY[b]++
		}
	}
	q.LogLoss, q.Accuracy, q.MeanScore = ll/n, float64(correct)/n, score/n
	q.Calibration = 0
	for b := range binN {
		if binN[b] > 0 {
			q.Calibration += binN[b] / n * math.Abs(binP[b]/binN[b]-binY[b]/binN[b])
		}
	}
	return q
}

// stat is the statistic the live policy compares, higher being better:
// the AUC for classifiers, minus the RMSE for score models, under
// weighting w (nil: every row once).
type stat func(w []int) float64

func statOf(s *samples) stat {
	if s.classifier() {
		return newRanker(s).auc
	}
	return func(w []int) float64 { return -rmse(s, w) }
}

// resample fills w with the row counts of one bootstrap resample of n rows.
func resample(r *rand.Rand, w []int) {
	clear(w)
	for range w {
		w[r.IntN(len(w))]++
	}
}

// quantile is the q-quantile of sorted v (linear between order statistics).
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(v)-1)
	return v[lo] + (pos-float64(lo))*(v[hi]-v[lo])
}

// Comparison is the bootstrap comparison of a challenger with production:
// the observed difference of the statistic (challenger minus production;
// AUC, or minus RMSE) and the one-sided bounds at the stated confidence.
// It is plain data.
type Comparison struct {
	Diff, Lower, Upper float64
	Confidence         float64
	Resamples          int
	// Paired is set when both versions scored the same events (shadow).
	Paired bool
}

// comparePaired compares two versions' outputs on the same labelled
// events (a and b hold the same rows in the same order): each resample
// draws events, and the statistic of both is taken on them.
func comparePaired(chal, prod *samples, conf float64, b int, seed uint64) Comparison {
	sc, sp := statOf(chal), statOf(prod)
	r := rand.New(rand.NewPCG(seed, 0x6c697665)) // "live"
	w := make([]int, chal.len())
	diffs := make([]float64, 0, b)
	for range b {
		resample(r, w)
		if d := sc(w) - sp(w); !math.IsNaN(d) {
			diffs = append(diffs, d)
		}
	}
	return bounds(sc(nil)-sp(nil), diffs, conf, b, true)
}

// compareUnpaired compares two versions scored on different events
// (canary and production split the keys): each resample draws from each
// version's events separately.
func compareUnpaired(chal, prod *samples, conf float64, b int, seed uint64) Comparison {
	sc, sp := statOf(chal), statOf(prod)
	r := rand.New(rand.NewPCG(seed, 0x6c697665))
	wc, wp := make([]int, chal.len()), make([]int, prod.len())
	diffs := make([]float64, 0, b)
	for range b {
		resample(r, wc)
		resample(r, wp)
		if d := sc(wc) - sp(wp); !math.IsNaN(d) {
			diffs = append(diffs, d)
		}
	}
	return bounds(sc(nil)-sp(nil), diffs, conf, b, false)
}

func bounds(diff float64, diffs []float64, conf float64, b int, paired bool) Comparison {
	slices.Sort(diffs)
	return Comparison{Diff: diff, Lower: quantile(diffs, 1-conf), Upper: quantile(diffs, conf), Confidence: conf, Resamples: b, Paired: paired}
}

// normalQuantile is the p-quantile of the standard normal distribution
// (p in (0, 1)), by bisection on math.Erf.
func normalQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if 0.5*(1+math.Erf(mid/math.Sqrt2)) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
