package schemas

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestFastDecodeMatchesGoavro encodes random records, edge values included,
// with goavro and checks that both decode paths return the same map; the
// fast path also as on a big-endian machine (floats read one by one).
func TestFastDecodeMatchesGoavro(t *testing.T) {
	defer func(le bool) { littleEndian = le }(littleEndian)
	for _, tt := range []struct {
		name, schema string
		bigEndian    bool
	}{
		{"transaction", TransactionSchema(), false},
		{"prediction", PredictionSchema(), false},
		{"heavy", heavySchema, false},
		{"heavy, big-endian reads", heavySchema, true},
		{"every fast type", fastSchema, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			littleEndian = !tt.bigEndian
			e := mustEntry(t, tt.schema)
			fast, slow := NewDecoder(nil, 0), NewDecoder(nil, 0)
			slow.goavro = true
			mustPreload(t, fast, 1, tt.schema)
			mustPreload(t, slow, 1, tt.schema)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 2000 {
				native := randomValue(r, e.root)
				body, err := e.codec.BinaryFromNative(nil, native)
				if err != nil {
					t.Fatalf("encoding %v: %v", native, err)
				}
				framed := AppendFrame(nil, 1, body)
				want, _, err := slow.Decode(t.Context(), framed)
				if err != nil {
					t.Fatalf("record %d: goavro path: %v", i, err)
				}
				got, _, err := fast.Decode(t.Context(), framed)
				if err != nil {
					t.Fatalf("record %d: fast path: %v", i, err)
				}
				if !sameDecoded(got, want) {
					t.Fatalf("record %d:\nfast   %#v\ngoavro %#v", i, got, want)
				}
			}
		})
	}
}

// sameDecoded is reflect.DeepEqual, except that floats compare by their bits
// (so NaN equals the same NaN, and 0 differs from -0).
func sameDecoded(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameDecoded(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameDecoded(x[i], y[i]) {
				return false
			}
		}
		return true
	case []float64:
		y, ok := b.([]float64)
		return ok && (x == nil) == (y == nil) && slices.EqualFunc(x, y, func(p, q float64) bool { return math.Float64bits(p) == math.Float64bits(q) })
	case []float32:
		y, ok := b.([]float32)
		return ok && (x == nil) == (y == nil) && slices.EqualFunc(x, y, func(p, q float32) bool { return math.Float32bits(p) == math.Float32bits(q) })
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	}
	return reflect.DeepEqual(a, b)
}
