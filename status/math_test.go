package status

import (
	"math"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	h := func(upper []float64, cum []float64, count float64) hist {
		return hist{upper: upper, cum: cum, count: count}
	}
	up := []float64{0.01, 0.02, 0.05, 0.1}
	tests := []struct {
		name string
		q    float64
		h    hist
		want float64
	}{
		{"empty", 0.5, h(up, []float64{0, 0, 0, 0}, 0), math.NaN()},
		{"no buckets", 0.5, h(nil, nil, 3), math.NaN()},
		{"first bucket starts at zero", 0.5, h(up, []float64{10, 10, 10, 10}, 10), 0.005},
		{"interpolates in its bucket", 0.5, h(up, []float64{0, 100, 100, 100}, 100), 0.015},
		{"p99 in its bucket", 0.99, h(up, []float64{0, 100, 100, 100}, 100), 0.0199},
		{"skips empty buckets", 0.5, h(up, []float64{0, 0, 0, 40}, 40), 0.075},
		{"spans buckets", 0.75, h(up, []float64{50, 50, 100, 100}, 100), 0.035},
		{"rank in +Inf answers the largest bound", 0.99, h(up, []float64{1, 1, 1, 1}, 10), 0.1},
		{"max", 1, h(up, []float64{5, 10, 10, 10}, 10), 0.02},
		{"negative bound", 0.5, h([]float64{-1, 1}, []float64{4, 4}, 4), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := quantile(tt.q, tt.h)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-12) {
				t.Fatalf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestDelta(t *testing.T) {
	up := []float64{1, 2}
	a := hist{upper: up, cum: []float64{1, 3}, count: 4, sum: 5}
	b := hist{upper: up, cum: []float64{3, 6}, count: 10, sum: 15}
	d := delta(a, b)
	if d.count != 6 || d.sum != 10 || d.cum[0] != 2 || d.cum[1] != 3 {
		t.Fatalf("delta = %+v", d)
	}
	restarted := hist{upper: up, cum: []float64{1, 1}, count: 1, sum: 1}
	if d := delta(b, restarted); d.count != 1 || d.cum[1] != 1 {
		t.Fatalf("delta after a restart = %+v, want the new histogram", d)
	}
	if d := delta(hist{}, b); d.count != 10 {
		t.Fatalf("delta from nothing = %+v, want b", d)
	}
}

func TestRate(t *testing.T) {
	t0 := time.Unix(100, 0)
	tests := []struct {
		name      string
		a, b      float64
		from, to  time.Time
		want      float64
		wantIsNaN bool
	}{
		{"steady", 100, 600, t0, t0.Add(5 * time.Second), 100, false},
		{"reset counts from zero", 500, 50, t0, t0.Add(5 * time.Second), 10, false},
		{"no time", 1, 2, t0, t0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rate(tt.a, tt.b, tt.from, tt.to)
			if tt.wantIsNaN != math.IsNaN(got) || (!tt.wantIsNaN && got != tt.want) {
				t.Fatalf("rate = %v, want %v", got, tt.want)
			}
		})
	}
}
