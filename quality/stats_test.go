package quality

import (
	"math"
	"math/rand/v2"
	"testing"
)

// pairwiseAUC counts, over every (positive, negative) pair of rows, how
// often the positive scores higher, ties counting one half.
func pairwiseAUC(s *samples, c int, w []int) float64 {
	var num, den float64
	for i := range s.y {
		for j := range s.y {
			if s.y[i] != c || s.y[j] == c {
				continue
			}
			wt := 1.0
			if w != nil {
				wt = float64(w[i] * w[j])
			}
			pi, pj := s.p[i*s.width+c], s.p[j*s.width+c]
			switch {
			case pi > pj:
				num += wt
			case pi == pj:
				num += wt / 2
			}
			den += wt
		}
	}
	return num / den
}

func randomSamples(r *rand.Rand, n, width int, signal float64) *samples {
	s := &samples{width: width}
	for range n {
		y := r.IntN(width)
		p := make([]float32, width)
		var sum float32
		for c := range p {
			v := r.Float64()
			if c == y {
				v += signal
			}
			p[c] = float32(math.Round(v*20) / 20) // coarse, so that ties occur
			sum += p[c]
		}
		for c := range p {
			p[c] /= sum
		}
		s.addClass(p, y)
	}
	return s
}

// The one-pass AUC equals the pairwise count, with and without bootstrap
// weights, for two classes and for the mean one-vs-rest of three.
func TestRankerAUC(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, width := range []int{2, 3} {
		s := randomSamples(r, 300, width, 0.4)
		w := make([]int, s.len())
		resample(r, w)
		for _, weights := range [][]int{nil, w} {
			want := 0.0
			if width == 2 {
				want = pairwiseAUC(s, 1, weights)
			} else {
				for c := range width {
					want += pairwiseAUC(s, c, weights) / float64(width)
				}
			}
			if got := newRanker(s).auc(weights); math.Abs(got-want) > 1e-12 {
				t.Errorf("%d classes, weighted %v: AUC %v, pairwise %v", width, weights != nil, got, want)
			}
		}
	}
	one := &samples{width: 2}
	one.addClass([]float32{0.3, 0.7}, 1)
	if !math.IsNaN(newRanker(one).auc(nil)) {
		t.Error("AUC with one class is not NaN")
	}
}

func TestMeasure(t *testing.T) {
	s := &samples{width: 2}
	rows := []struct {
		p1 float32
		y  int
	}{{0.95, 1}, {0.85, 0}, {0.35, 1}, {0.15, 0}}
	for _, r := range rows {
		s.addClass([]float32{1 - r.p1, r.p1}, r.y)
	}
	q := measure(s)
	wantLL := -(math.Log(0.95) + math.Log(0.15) + math.Log(0.35) + math.Log(0.85)) / 4
	// One row per bin: |0.95-1|, |0.85-0|, |0.35-1|, |0.15-0|.
	wantECE := (0.05 + 0.85 + 0.65 + 0.15) / 4
	if q.Labelled != 4 || q.Positives != 2 || q.AUC != 0.75 || math.Abs(q.LogLoss-wantLL) > 1e-6 ||
		q.Accuracy != 0.5 || math.Abs(q.Calibration-wantECE) > 1e-6 || math.Abs(q.MeanScore-0.575) > 1e-6 || !math.IsNaN(q.RMSE) {
		t.Fatalf("quality %+v; want log-loss %v, calibration %v", q, wantLL, wantECE)
	}
	v := &samples{width: 1}
	v.addValue(3, 1)
	v.addValue(1, 2)
	q = measure(v)
	if q.MAE != 1.5 || math.Abs(q.RMSE-math.Sqrt(2.5)) > 1e-9 || !math.IsNaN(q.AUC) {
		t.Fatalf("score quality %+v", q)
	}
}

// The bootstrap bounds: a clearly better challenger has its lower bound
// above zero, paired or not; the same model's difference straddles zero.
func TestCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	good, weak := &samples{width: 2}, &samples{width: 2}
	for range 2000 {
		y := 0
		if r.Float64() < 0.1 {
			y = 1
		}
		noise := r.NormFloat64()
		truth := float64(y) * 1.5
		pg := 1 / (1 + math.Exp(-(truth + 0.6*noise - 2)))
		pw := 1 / (1 + math.Exp(-(truth + 1.5*noise + 0.8*r.NormFloat64() - 2)))
		good.addClass([]float32{float32(1 - pg), float32(pg)}, y)
		weak.addClass([]float32{float32(1 - pw), float32(pw)}, y)
	}
	paired := comparePaired(good, weak, 0.95, 500, 1)
	unpaired := compareUnpaired(good, weak, 0.95, 500, 1)
	same := comparePaired(weak, weak, 0.95, 500, 1)
	worse := compareUnpaired(weak, good, 0.95, 500, 1)
	t.Logf("paired %+v\nunpaired %+v\nsame %+v\nworse %+v", paired, unpaired, same, worse)
	if !(paired.Lower > 0) || !(unpaired.Lower > 0) || !paired.Paired || unpaired.Paired {
		t.Errorf("the better model is not better: paired %+v, unpaired %+v", paired, unpaired)
	}
	if paired.Upper-paired.Lower >= unpaired.Upper-unpaired.Lower {
		t.Errorf("pairing did not narrow the bounds: %+v vs %+v", paired, unpaired)
	}
	if same.Diff != 0 || same.Lower != 0 || same.Upper != 0 {
		t.Errorf("a model against itself: %+v", same)
	}
	if !(worse.Upper < 0) {
		t.Errorf("the worse model is not worse: %+v", worse)
	}
}
