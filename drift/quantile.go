package drift

import (
	"math"
	"slices"
	"sort"
	"strings"
)

// numericProfile bins vals (NaN = missing) on their quantiles.
func numericProfile(name string, vals []float64, bins int) NumericProfile {
	xs := make([]float64, 0, len(vals))
	for _, v := range vals {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	slices.Sort(xs)
	n := NumericProfile{Name: name, Count: int64(len(vals))}
	if len(vals) > 0 {
		n.Missing = float64(len(vals)-len(xs)) / float64(len(vals))
	}
	if len(xs) == 0 {
		n.Edges = []float64{}
		n.Proportions = []float64{0}
		return n
	}
	n.Min, n.Max = xs[0], xs[len(xs)-1]
	var sum float64
	for _, x := range xs {
		sum += x
	}
	n.Mean = sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - n.Mean) * (x - n.Mean)
	}
	n.Std = math.Sqrt(ss / float64(len(xs)))
	n.Edges = quantileEdges(xs, bins)
	counts := make([]float64, len(n.Edges)+1)
	for _, x := range xs {
		counts[sort.SearchFloat64s(n.Edges, x)]++
	}
	n.Proportions = counts
	for i := range counts {
		n.Proportions[i] = counts[i] / float64(len(vals))
	}
	return n
}

// quantileEdges returns the distinct k/bins quantiles (k = 1..bins-1) of
// the sorted values xs, each an observed value.
func quantileEdges(xs []float64, bins int) []float64 {
	edges := make([]float64, 0, bins-1)
	for k := 1; k < bins; k++ {
		i := int(math.Ceil(float64(k)*float64(len(xs))/float64(bins))) - 1
		i = max(0, min(i, len(xs)-1))
		e := xs[i]
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}

// categoricalProfile turns category ids (-1 = missing) into frequencies.
// The vocabulary comes first, then the most frequent other categories up to
// maxExtra; the rest count as Other.
func categoricalProfile(spec FeatureSpec, ids []int32, names []string, maxExtra int) CategoricalProfile {
	c := CategoricalProfile{Name: spec.Name, Count: int64(len(ids))}
	counts := make([]int64, len(names))
	var missing int64
	for _, id := range ids {
		if id < 0 {
			missing++
		} else {
			counts[id]++
		}
	}
	byName := make(map[string]int64, len(names))
	for i, s := range names {
		byName[s] += counts[i]
	}
	in := map[string]bool{}
	for _, s := range spec.Vocabulary {
		if !in[s] {
			in[s] = true
			c.Categories = append(c.Categories, s)
		}
	}
	var extra []string
	for _, s := range names {
		if !in[s] && byName[s] > 0 {
			extra = append(extra, s)
		}
	}
	slices.SortStableFunc(extra, func(a, b string) int {
		if byName[a] != byName[b] {
			if byName[a] > byName[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(extra) > maxExtra {
		extra = extra[:maxExtra]
	}
	c.Categories = append(c.Categories, extra...)
	c.Proportions = make([]float64, len(c.Categories))
	total := float64(len(ids))
	if total == 0 {
		return c
	}
	var kept int64
	for i, s := range c.Categories {
		kept += byName[s]
		c.Proportions[i] = float64(byName[s]) / total
	}
	c.Missing = float64(missing) / total
	c.Other = float64(int64(len(ids))-missing-kept) / total
	return c
}
