package drift

import "math"

// predictionFeature is the feature name the prediction-score test carries
// in reports and metrics. The parentheses keep it from clashing with an
// Avro field name.
const predictionFeature = "(prediction)"

// binner puts one feature's values into its slice of a flat count array.
// Numeric: value bins 0..len(edges), then missing. Categorical: one bin
// per category, then other, then missing.
type binner struct {
	name  string
	kind  FeatureKind
	off   int32
	nb    int32
	edges []float64
	cats  map[string]int32
	// ref is the reference count of each bin: training share times Count.
	ref []float64
}

// layout is the binning of every feature of a profile into one array.
type layout struct {
	feats []binner
	score *binner // nil when the profile has no score histogram
	bins  int
}

func newLayout(p *Profile) *layout {
	l := &layout{}
	addNumeric := func(n *NumericProfile, name string) binner {
		b := binner{name: name, kind: Numeric, off: int32(l.bins), nb: int32(len(n.Edges) + 2), edges: n.Edges}
		b.ref = make([]float64, b.nb)
		for i, q := range n.Proportions {
			b.ref[i] = q * float64(n.Count)
		}
		b.ref[b.nb-1] = n.Missing * float64(n.Count)
		l.bins += int(b.nb)
		return b
	}
	for i := range p.Numeric {
		l.feats = append(l.feats, addNumeric(&p.Numeric[i], p.Numeric[i].Name))
	}
	for i := range p.Categorical {
		c := &p.Categorical[i]
		b := binner{name: c.Name, kind: Categorical, off: int32(l.bins), nb: int32(len(c.Categories) + 2)}
		b.cats = make(map[string]int32, len(c.Categories))
		b.ref = make([]float64, b.nb)
		for j, s := range c.Categories {
			b.cats[s] = int32(j)
			b.ref[j] = c.Proportions[j] * float64(c.Count)
		}
		b.ref[b.nb-2] = c.Other * float64(c.Count)
		b.ref[b.nb-1] = c.Missing * float64(c.Count)
		l.bins += int(b.nb)
		l.feats = append(l.feats, b)
	}
	if p.Score != nil {
		s := addNumeric(p.Score, predictionFeature)
		l.score = &s
	}
	return l
}

// binOf returns the index in the flat array of value v's bin.
func (b *binner) binOf(v any) int32 {
	if b.kind == Categorical {
		s, ok := stringOf(v)
		if !ok {
			return b.off + b.nb - 1
		}
		if j, ok := b.cats[s]; ok {
			return b.off + j
		}
		return b.off + b.nb - 2
	}
	x, ok := numberOf(v)
	if !ok {
		return b.off + b.nb - 1
	}
	return b.numBin(x)
}

// numBin is the bin of number x: the count of edges below x (missing for
// NaN and infinities, as in the profile).
func (b *binner) numBin(x float64) int32 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b.off + b.nb - 1
	}
	lo, hi := 0, len(b.edges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.edges[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return b.off + int32(lo)
}
