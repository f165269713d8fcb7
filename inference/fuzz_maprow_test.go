package inference

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// FuzzMapRow feeds the mapping records whose values have arbitrary types
// and contents: it must never panic, and a record it accepts must fill
// every column with a finite number. The same records also go through a
// signature of typed inputs (int64, uint8, float16, string), mapped by name
// and by position, which must agree byte for byte.
func FuzzMapRow(f *testing.F) {
	impute := 1.5
	sig := &Signature{
		Input: InputSpec{Tensor: "x", Columns: []Column{
			{Field: "amount", Kind: KindNumeric},
			{Field: "income", Kind: KindNumeric, Impute: &impute},
			{Field: "present", Kind: KindBoolean},
			{Field: "channel", Kind: KindCategorical, Vocabulary: []string{"web", "pos"}},
			{Field: "kind", Kind: KindCategorical, Vocabulary: []string{"a", "b", "c"}, Encoding: EncodingIndex, Unknown: UnknownZero},
			{Field: "emb", Kind: KindArray, Length: 3},
		}},
		Output: OutputSpec{Tensor: "y", Kind: OutputScore},
	}
	if err := sig.Validate(); err != nil {
		f.Fatal(err)
	}
	f.Add(12.5, 3.0, true, "web", "b", 3, uint8(0))
	f.Add(math.NaN(), math.Inf(1), false, "fax", "", 2, uint8(1))
	f.Add(-1e308, 0.0, true, "pos", "zzz", 0, uint8(2))
	f.Add(0.0, -0.0, false, "", "a", 9, uint8(3))
	typed, err := ParseSignature([]byte(`
inputs:
  - {tensor: e, dtype: int64, shape: [N, 3], field: emb}
  - {tensor: s, dtype: uint8, columns: [{field: amount, kind: numeric}, {field: present, kind: boolean}, {field: channel, kind: categorical, vocabulary: [web, pos]}]}
  - {tensor: h, dtype: float16, columns: [{field: income, kind: numeric, impute: 2}]}
  - {tensor: w, dtype: string, columns: [{field: kind, kind: string}]}
outputs:
  - {tensor: y, kind: score}
`))
	if err != nil {
		f.Fatal(err)
	}
	row := make([]float32, sig.Width())
	f.Fuzz(func(t *testing.T, amount, income float64, present bool, channel, kind string, embLen int, shape uint8) {
		rec := map[string]any{
			"amount": amount, "income": map[string]any{"double": income}, "present": present,
			"channel": channel, "kind": kind,
		}
		emb := make([]any, max(0, min(embLen, 8)))
		for i := range emb {
			emb[i] = float32(amount) * float32(i)
		}
		rec["emb"] = emb
		// Vary the shapes a hostile or evolved writer could send.
		switch shape % 6 {
		case 1:
			delete(rec, "income") // absent: imputed
		case 2:
			rec["amount"] = channel // a string where a number belongs
		case 3:
			rec["present"] = amount // a number where a boolean belongs
		case 4:
			rec["income"] = nil // null: imputed
		case 5:
			rec["emb"] = []float64{amount, income, amount}
		}
		err := sig.MapRow(rec, row)
		// MapFields over the same record as names and values, plus a
		// field the signature does not use, must agree exactly.
		names, vals := []string{"extra"}, []any{"unused"}
		for k, v := range rec {
			names, vals = append(names, k), append(vals, v)
		}
		row2 := make([]float32, len(row))
		err2 := sig.MapFields(vals, sig.Positions(names), row2)
		var tr, tr2 Row
		terr, terr2 := typed.MapRecordInto(rec, &tr), typed.MapFieldsInto(vals, typed.Positions(names), &tr2)
		if (terr == nil) != (terr2 == nil) || (terr != nil && terr.Error() != terr2.Error()) {
			t.Fatalf("typed: MapRecordInto error %v, MapFieldsInto error %v", terr, terr2)
		}
		if terr == nil && (!slices.Equal(tr.num, tr2.num) || !slices.Equal(tr.str, tr2.str)) {
			t.Fatal("typed: MapRecordInto and MapFieldsInto disagree")
		}
		if me := (*MapError)(nil); terr != nil && (!errors.As(terr, &me) || me.Field == "") {
			t.Fatalf("typed: error %v is not a MapError naming a field", terr)
		}
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("MapRow error %v, MapFields error %v", err, err2)
		}
		if err == nil {
			for i := range row {
				if math.Float32bits(row[i]) != math.Float32bits(row2[i]) {
					t.Fatalf("column %d: MapRow %v, MapFields %v", i, row[i], row2[i])
				}
			}
		}
		if err != nil {
			var me *MapError
			if !errors.As(err, &me) || me.Field == "" || me.Class == "" {
				t.Fatalf("error %v is not a MapError naming a field and class", err)
			}
			return
		}
		for i, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("accepted record gave column %d = %v", i, v)
			}
		}
	})
}
