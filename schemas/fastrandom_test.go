package schemas

import (
	"math"
	"math/rand/v2"

	"github.com/linkedin/goavro/v2"
)

// randomValue returns a random goavro-native value of n, edge values often:
// zero, extremes, negative numbers, NaN and infinities, empty strings and
// arrays, nil unions. It covers the types the fast decoder reads.
func randomValue(r *rand.Rand, n *node) any {
	switch n.kind {
	case kNull:
		return nil
	case kBoolean:
		return r.IntN(2) == 1
	case kInt:
		return pick(r, int32(0), int32(-1), int32(1), int32(math.MaxInt32), int32(math.MinInt32), r.Int32()-1<<30)
	case kLong:
		return pick(r, int64(0), int64(-1), int64(63), int64(-64), int64(math.MaxInt64), int64(math.MinInt64),
			int64(1_700_000_000_123), r.Int64()-1<<62, r.Int64N(1<<20)-1<<19)
	case kFloat:
		return pick(r, float32(0), float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
			float32(math.Inf(-1)), float32(math.MaxFloat32), float32(-math.SmallestNonzeroFloat32), float32(r.NormFloat64()))
	case kDouble:
		return pick(r, 0.0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64,
			-math.SmallestNonzeroFloat64, r.NormFloat64()*1e6)
	case kString:
		return string(randomBytes(r))
	case kBytes:
		return randomBytes(r)
	case kEnum:
		return n.symbols[r.IntN(len(n.symbols))]
	case kFixed:
		b := make([]byte, n.size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case kUnion:
		i := r.IntN(len(n.branches))
		b := n.branches[i]
		if b.kind == kNull {
			return nil
		}
		return goavro.Union(b.unionName(), randomValue(r, b))
	case kArray:
		size := pick(r, 0, 1, 3, 256, r.IntN(40))
		items := make([]any, size)
		for i := range items {
			items[i] = randomValue(r, n.items)
		}
		return items
	case kMap:
		size := pick(r, 0, 1, 3, r.IntN(20))
		m := make(map[string]any, size)
		for range size {
			m[string(randomBytes(r))] = randomValue(r, n.items)
		}
		return m
	case kRecord:
		rec := make(map[string]any, len(n.fields))
		for _, f := range n.fields {
			rec[f.name] = randomValue(r, f.node)
		}
		return rec
	}
	panic("randomValue: unsupported kind")
}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

// randomBytes returns empty, short or long bytes, invalid UTF-8 included.
func randomBytes(r *rand.Rand) []byte {
	b := make([]byte, pick(r, 0, 1, 7, 64, 200))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
