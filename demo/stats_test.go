package demo

import (
	"math"
	"testing"
)

// summary holds the rates and feature moments of a sample of events.
type summary struct {
	n        int
	fraud    float64
	null     float64
	channels map[string]float64
	mean     map[string]float64
	std      map[string]float64
}

func summarise(g *Generator, n int) summary {
	s := summary{n: n, channels: map[string]float64{}, mean: map[string]float64{}, std: map[string]float64{}}
	sumSq := map[string]float64{}
	for range n {
		rec, fraud := g.NextLabelled()
		if fraud {
			s.fraud++
		}
		if rec[FieldCustomerIncome] == nil {
			s.null++
		}
		s.channels[rec[FieldChannel].(string)]++
		for _, f := range numericFields {
			v := rec[f].(float64)
			s.mean[f] += v
			sumSq[f] += v * v
		}
	}
	fn := float64(n)
	s.fraud /= fn
	s.null /= fn
	for k := range s.channels {
		s.channels[k] /= fn
	}
	for _, f := range numericFields {
		s.mean[f] /= fn
		s.std[f] = math.Sqrt(sumSq[f]/fn - s.mean[f]*s.mean[f])
	}
	return s
}

func TestRates(t *testing.T) {
	s := summarise(NewGenerator(11), 25000)
	if s.fraud < 0.03 || s.fraud > 0.05 {
		t.Errorf("fraud rate %.4f, want 3%%-5%%", s.fraud)
	}
	if s.null < 0.13 || s.null > 0.17 {
		t.Errorf("customer_income null rate %.4f, want about 15%%", s.null)
	}
	for i, ch := range channelNames {
		if got := s.channels[ch]; math.Abs(got-defaultMix[i]) > 0.01 {
			t.Errorf("channel %s share %.4f, want %.2f", ch, got, defaultMix[i])
		}
	}
}

func TestFraudFollowsRule(t *testing.T) {
	g := NewGenerator(5)
	var lowN, lowF, highN, highF float64
	for range 25000 {
		rec, fraud := g.NextLabelled()
		p := FraudProbability(rec)
		if p <= 0 || p >= 1 {
			t.Fatalf("probability %v", p)
		}
		if p < 0.01 {
			lowN++
			if fraud {
				lowF++
			}
		} else if p > 0.3 {
			highN++
			if fraud {
				highF++
			}
		}
	}
	if lowF/lowN > 0.015 || highF/highN < 0.3 {
		t.Errorf("fraud rate %.4f where p<0.01 and %.4f where p>0.3", lowF/lowN, highF/highN)
	}
}

func TestDrift(t *testing.T) {
	const shift = 2.0
	shifted := []string{"amount", "merchant_risk", "ip_risk_score"}
	base := summarise(NewGenerator(21), 25000)
	g := NewGenerator(22,
		WithDrift(Drift{After: 1000, Features: shifted, Shift: shift}),
		WithDrift(Drift{After: 1000, ChannelMix: map[string]float64{"web": 0.7, "mobile": 0.1, "pos": 0.2}}),
	)
	before := summarise(g, 1000)
	after := summarise(g, 25000)
	if before.channels["web"] > 0.36 || before.mean["merchant_risk"] > base.mean["merchant_risk"]+0.05 {
		t.Errorf("drifted before After: %v, merchant_risk mean %v", before.channels, before.mean["merchant_risk"])
	}
	for ch, want := range map[string]float64{"web": 0.7, "mobile": 0.1, "pos": 0.2, "atm": 0} {
		if got := after.channels[ch]; math.Abs(got-want) > 0.01 {
			t.Errorf("drifted channel %s share %.4f, want %.2f", ch, got, want)
		}
	}

	// Without a channel change, only the chosen features move.
	after = summarise(NewGenerator(23, WithDrift(Drift{Features: shifted, Shift: shift})), 25000)
	for _, f := range numericFields {
		want := 0.0
		for _, s := range shifted {
			if s == f {
				want = shift
			}
		}
		if moved := (after.mean[f] - base.mean[f]) / base.std[f]; math.Abs(moved-want) > 0.08 {
			t.Errorf("%s moved %.3f std, want %.1f", f, moved, want)
		}
		if ratio := after.std[f] / base.std[f]; want != 0 && math.Abs(ratio-1) > 0.15 {
			t.Errorf("%s std changed by a factor %.3f", f, ratio)
		}
	}
}

func TestDriftShiftOnly(t *testing.T) {
	// Shifting features consumes no randomness: the same seed gives the
	// same events, with exactly the shifted features moved.
	std := referenceStd()
	a := NewGenerator(9)
	b := NewGenerator(9, WithDrift(Drift{Features: []string{"hour_of_day"}, Shift: -1.5}))
	for range 500 {
		ra, rb := a.Next(), b.Next()
		for i, f := range numericFields {
			want := ra[f].(float64)
			if i == fHour {
				want += -1.5 * std[i]
			}
			if rb[f].(float64) != want {
				t.Fatalf("%s = %v, want %v", f, rb[f], want)
			}
		}
	}
}

func TestDriftValidate(t *testing.T) {
	tests := []struct {
		name string
		d    Drift
		ok   bool
	}{
		{"empty", Drift{}, true},
		{"features", Drift{After: 10, Features: []string{"amount"}, Shift: 3}, true},
		{"mix", Drift{ChannelMix: map[string]float64{"atm": 1}}, true},
		{"negative after", Drift{After: -1}, false},
		{"unknown feature", Drift{Features: []string{"channel"}, Shift: 1}, false},
		{"nan shift", Drift{Features: []string{"amount"}, Shift: math.NaN()}, false},
		{"unknown channel", Drift{ChannelMix: map[string]float64{"phone": 1}}, false},
		{"negative weight", Drift{ChannelMix: map[string]float64{"web": -1, "pos": 2}}, false},
		{"zero mix", Drift{ChannelMix: map[string]float64{"web": 0}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.d.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func BenchmarkNextLabelled(b *testing.B) {
	g := NewGenerator(1)
	b.ReportAllocs()
	for b.Loop() {
		g.NextLabelled()
	}
}
