package demo

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// Drift changes the generated distribution from event After on (After events
// are generated undrifted first; 0 drifts from the start). Each numeric
// feature named in Features is shifted by Shift reference standard
// deviations (the feature's standard deviation without drift); values are
// not clamped afterwards, so a shifted score may leave [0, 1]. ChannelMix,
// when not nil, replaces the channel mix: weights for web, mobile, pos and
// atm (missing channels get weight 0; weights need not sum to 1). Concept,
// when set, labels the events from After on by the package's second rule
// (concept drift: what fraud looks like changes, no feature moves). A
// Drift is a plain value; the generator copies what it needs.
type Drift struct {
	After      int
	Features   []string
	Shift      float64
	ChannelMix map[string]float64
	Concept    bool
}

// Validate reports the first problem with d: a negative After, an unknown
// feature, a non-finite Shift, or a channel mix with an unknown channel, a
// negative or non-finite weight, or no weight at all. It is safe for
// concurrent use.
func (d Drift) Validate() error {
	if d.After < 0 {
		return fmt.Errorf("demo: drift after %d events: must be >= 0", d.After)
	}
	if math.IsNaN(d.Shift) || math.IsInf(d.Shift, 0) {
		return errors.New("demo: drift shift is not finite")
	}
	for _, f := range d.Features {
		if _, ok := featureIndex(f); !ok {
			return fmt.Errorf("demo: drift feature %q is not a numeric feature", f)
		}
	}
	if d.ChannelMix == nil {
		return nil
	}
	total := 0.0
	for ch, w := range d.ChannelMix {
		if channelIndex(ch) < 0 {
			return fmt.Errorf("demo: drift channel %q is not one of web, mobile, pos, atm", ch)
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("demo: drift channel %q weight %v", ch, w)
		}
		total += w
	}
	if total <= 0 {
		return errors.New("demo: drift channel mix has no weight")
	}
	return nil
}

// activeDrift is a validated Drift resolved to feature indexes and absolute
// shifts.
type activeDrift struct {
	after   int
	concept bool
	idx     []int
	delta   []float64
	mix     *[numChannels]float64 // cumulative, nil keeps the mix
}

func resolveDrift(d Drift) activeDrift {
	if err := d.Validate(); err != nil {
		panic(err)
	}
	a := activeDrift{after: d.After, concept: d.Concept}
	if len(d.Features) > 0 && d.Shift != 0 {
		std := referenceStd()
		for _, f := range d.Features {
			i, _ := featureIndex(f)
			a.idx = append(a.idx, i)
			a.delta = append(a.delta, d.Shift*std[i])
		}
	}
	if d.ChannelMix != nil {
		var w [numChannels]float64
		for ch, v := range d.ChannelMix {
			w[channelIndex(ch)] = v
		}
		cdf := cumulative(w)
		a.mix = &cdf
	}
	return a
}

var (
	refOnce sync.Once
	refStd  [numFeatures]float64
)

// referenceStd is the standard deviation of each numeric feature without
// drift, estimated once per process from a fixed-seed sample.
func referenceStd() *[numFeatures]float64 {
	refOnce.Do(func() {
		const n = 50000
		g := NewGenerator(1)
		var sum, sumSq [numFeatures]float64
		var t txn
		for range n {
			g.nextTxn(&t)
			for i, v := range t.x {
				sum[i] += v
				sumSq[i] += v * v
			}
		}
		for i := range refStd {
			mean := sum[i] / n
			refStd[i] = math.Sqrt(math.Max(0, sumSq[i]/n-mean*mean))
		}
	})
	return &refStd
}

func channelIndex(name string) int {
	for i, c := range channelNames {
		if c == name {
			return i
		}
	}
	return -1
}

func cumulative(w [numChannels]float64) [numChannels]float64 {
	total := 0.0
	for _, v := range w {
		total += v
	}
	var cdf [numChannels]float64
	acc := 0.0
	for i, v := range w {
		acc += v / total
		cdf[i] = acc
	}
	cdf[numChannels-1] = 1
	return cdf
}
