package inference

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/dlq"
)

// fraudRecord is a goavro-native CardTransaction.
func fraudRecord() map[string]any {
	rec := map[string]any{
		"event_id": "e1", "entity_id": "card-1", "event_time": int64(1700000000000),
		"card_present": true, "channel": "pos", "customer_income": map[string]any{"double": 61000.0},
	}
	for i, f := range fraudFeatures {
		rec[f] = float64(i) + 0.5
	}
	return rec
}

var fraudFeatures = []string{"amount", "amount_zscore_30d", "hour_of_day", "day_of_week", "merchant_risk",
	"distance_from_home_km", "distance_from_last_km", "seconds_since_last_txn", "txn_count_1h", "txn_count_24h",
	"amount_sum_24h", "avg_amount_30d", "card_age_days", "account_age_days", "failed_logins_24h", "ip_risk_score",
	"device_trust", "velocity_score", "chargebacks_180d", "mcc_risk"}

func TestMapRowFraud(t *testing.T) {
	s := loadFraudSignature(t)
	want := make([]float32, 0, 26)
	for i := range fraudFeatures {
		want = append(want, float32(i)+0.5)
	}
	want = append(want, 1, 0, 0, 1, 0, 61000)
	dst := make([]float32, s.Width())
	if err := s.MapRow(fraudRecord(), dst); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst, want) {
		t.Fatalf("row = %v\nwant  %v", dst, want)
	}

	rec := fraudRecord()
	rec["customer_income"] = nil
	rec["card_present"] = false
	rec["channel"] = "web"
	if err := s.MapRow(rec, dst); err != nil {
		t.Fatal(err)
	}
	if got := dst[20:]; !slices.Equal(got, []float32{0, 1, 0, 0, 0, 52000}) {
		t.Fatalf("tail = %v, want card_present 0, web, imputed income", got)
	}
}

func TestMapRowDoesNotAllocate(t *testing.T) {
	s := loadFraudSignature(t)
	rec := fraudRecord()
	dst := make([]float32, s.Width())
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.MapRow(rec, dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("MapRow allocates %.1f times per call", allocs)
	}
}

func f64(v float64) *float64 { return &v }

func TestMapRowKinds(t *testing.T) {
	sig := &Signature{
		Input: InputSpec{Tensor: "x", Columns: []Column{
			{Field: "n", Kind: KindNumeric},
			{Field: "opt", Kind: KindNumeric, Impute: f64(-1)},
			{Field: "b", Kind: KindBoolean},
			{Field: "c", Kind: KindCategorical, Vocabulary: []string{"red", "green", "blue"}},
			{Field: "ci", Kind: KindCategorical, Vocabulary: []string{"s", "m", "l"}, Encoding: EncodingIndex, Unknown: UnknownZero},
			{Field: "cz", Kind: KindCategorical, Vocabulary: []string{"x", "y"}, Unknown: UnknownZero},
			{Field: "arr", Kind: KindArray, Length: 3},
		}},
		Output: OutputSpec{Tensor: "y", Kind: OutputScore},
	}
	if err := sig.Validate(); err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		return map[string]any{
			"n": float64(2), "opt": float32(3), "b": true, "c": "green", "ci": "l", "cz": "y",
			"arr": []any{float64(1), int32(2), map[string]any{"float": float32(3)}},
		}
	}
	with := func(k string, v any) map[string]any {
		r := base()
		if v == "<absent>" {
			delete(r, k)
		} else {
			r[k] = v
		}
		return r
	}
	ok := []float32{2, 3, 1, 0, 1, 0, 2, 0, 1, 1, 2, 3}
	patch := func(i int, vals ...float32) []float32 {
		w := slices.Clone(ok)
		copy(w[i:], vals)
		return w
	}
	tests := []struct {
		name  string
		rec   map[string]any
		want  []float32
		class dlq.Class
		field string
	}{
		{"all kinds", base(), ok, "", ""},
		{"int32", with("n", int32(7)), patch(0, 7), "", ""},
		{"int64", with("n", int64(-9)), patch(0, -9), "", ""},
		{"int", with("n", 11), patch(0, 11), "", ""},
		{"union long", with("n", map[string]any{"long": int64(5)}), patch(0, 5), "", ""},
		{"null imputed", with("opt", nil), patch(1, -1), "", ""},
		{"absent imputed", with("opt", "<absent>"), patch(1, -1), "", ""},
		{"false", with("b", false), patch(2, 0), "", ""},
		{"enum string", with("c", "blue"), patch(3, 0, 0, 1), "", ""},
		{"index unknown is -1", with("ci", "xl"), patch(6, -1), "", ""},
		{"index null is -1", with("ci", nil), patch(6, -1), "", ""},
		{"onehot unknown is zeros", with("cz", "q"), patch(7, 0, 0), "", ""},
		{"float64 array", with("arr", []float64{4, 5, 6}), patch(9, 4, 5, 6), "", ""},
		{"float32 array", with("arr", []float32{7, 8, 9}), patch(9, 7, 8, 9), "", ""},

		{"null without impute", with("n", nil), nil, dlq.MissingField, "n"},
		{"absent without impute", with("n", "<absent>"), nil, dlq.MissingField, "n"},
		{"null boolean", with("b", nil), nil, dlq.MissingField, "b"},
		{"null category, error policy", with("c", nil), nil, dlq.MissingField, "c"},
		{"null array", with("arr", nil), nil, dlq.MissingField, "arr"},
		{"string for number", with("n", "2"), nil, dlq.WrongType, "n"},
		{"bool for number", with("n", true), nil, dlq.WrongType, "n"},
		{"number for bool", with("b", 1.0), nil, dlq.WrongType, "b"},
		{"number for category", with("c", int32(1)), nil, dlq.WrongType, "c"},
		{"string for array", with("arr", "1,2,3"), nil, dlq.WrongType, "arr"},
		{"string in array", with("arr", []any{1.0, "2", 3.0}), nil, dlq.WrongType, "arr"},
		{"NaN", with("n", math.NaN()), nil, dlq.NonFinite, "n"},
		{"+Inf", with("n", math.Inf(1)), nil, dlq.NonFinite, "n"},
		{"-Inf float32", with("opt", float32(math.Inf(-1))), nil, dlq.NonFinite, "opt"},
		{"float32 overflow", with("n", 1e300), nil, dlq.NonFinite, "n"},
		{"NaN in array", with("arr", []any{1.0, math.NaN(), 3.0}), nil, dlq.NonFinite, "arr"},
		{"NaN in float32 array", with("arr", []float32{1, float32(math.NaN()), 3}), nil, dlq.NonFinite, "arr"},
		{"Inf in float64 array", with("arr", []float64{1, 2, math.Inf(1)}), nil, dlq.NonFinite, "arr"},
		{"unknown category", with("c", "purple"), nil, dlq.UnknownCategory, "c"},
		{"short array", with("arr", []any{1.0, 2.0}), nil, dlq.BadLength, "arr"},
		{"long float64 array", with("arr", []float64{1, 2, 3, 4}), nil, dlq.BadLength, "arr"},
		{"empty float32 array", with("arr", []float32{}), nil, dlq.BadLength, "arr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float32, sig.Width())
			err := sig.MapRow(tt.rec, dst)
			if tt.class == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(dst, tt.want) {
					t.Fatalf("row = %v, want %v", dst, tt.want)
				}
				return
			}
			var me *MapError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *MapError", err)
			}
			if me.Class != tt.class || me.Field != tt.field {
				t.Fatalf("err = %v (class %s, field %s), want class %s, field %s", err, me.Class, me.Field, tt.class, tt.field)
			}
		})
	}
}

func TestMapRowShortDestination(t *testing.T) {
	s := loadFraudSignature(t)
	err := s.MapRow(fraudRecord(), make([]float32, 25))
	var me *MapError
	if err == nil || errors.As(err, &me) {
		t.Fatalf("err = %v, want a plain error (not the record's fault)", err)
	}
}

func BenchmarkMapRow(b *testing.B) {
	s := loadFraudSignature(b)
	rec := fraudRecord()
	dst := make([]float32, s.Width())
	b.ReportAllocs()
	for b.Loop() {
		if err := s.MapRow(rec, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// allFinite32 agrees with the element-by-element test on every length up
// to 9 with a non-finite value, or a finite extreme, at every position.
func TestAllFinite32(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 1}
	for n := range 10 {
		for pos := range n {
			for _, v := range special {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i) - 3.5
				}
				x[pos] = v
				want := true
				for _, e := range x {
					want = want && e-e == 0
				}
				if got := allFinite32(x); got != want {
					t.Errorf("allFinite32(%v) = %v, want %v", x, got, want)
				}
			}
		}
	}
	if !allFinite32(nil) {
		t.Error("allFinite32(nil) = false")
	}
}
