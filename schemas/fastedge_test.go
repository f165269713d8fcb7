package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/sluice-ml/sluice/dlq"
)

func str(s string) []byte { return append(zigzag(int64(len(s))), s...) }

func dbl(f float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f)) }

func flt(f float32) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)) }

// overlong is v as a varint padded with continuation bytes to n bytes,
// which goavro reads (a guarded schema does not).
func overlong(v int64, n int) []byte {
	b := zigzag(v)
	b[len(b)-1] |= 0x80
	for len(b) < n-1 {
		b = append(b, 0x80)
	}
	return append(b, 0)
}

// txParts is a transaction body in parts: ids, time, 20 doubles, card
// present, channel, customer income.
func txParts() [][]byte {
	p := [][]byte{str("ev-1"), str("card-42"), zigzag(1_700_000_000_123)}
	for i := range 20 {
		p = append(p, dbl(float64(i)-3.5))
	}
	return append(p, []byte{1}, str("web"), append(zigzag(1), dbl(52000)...))
}

// predParts is a prediction body in parts (scores and classes at 4 and 5,
// the outputs map at 15).
func predParts() [][]byte {
	return [][]byte{str("e"), str("c"), str("m"), str("v"),
		bytes.Join([][]byte{zigzag(2), flt(0.25), flt(0.75), {0}}, nil),
		bytes.Join([][]byte{zigzag(2), str("legit"), str("fraud"), {0}}, nil),
		append(zigzag(1), str("fraud")...), flt(0.75), str("features"), zigzag(3), zigzag(99),
		zigzag(-5), zigzag(10), zigzag(20), zigzag(256),
		bytes.Join([][]byte{zigzag(1), str("emb"), zigzag(2), flt(1), flt(2), {0}, {0}}, nil)}
}

// with returns parts joined, part i replaced by b.
func with(parts [][]byte, i int, b []byte) []byte { return bytes.Join(with2(parts, i, b), nil) }

// with2 returns a copy of parts with part i replaced by b.
func with2(parts [][]byte, i int, b []byte) [][]byte {
	out := append([][]byte(nil), parts...)
	out[i] = b
	return out
}

// TestFastDecodeEdgeBodies checks bodies at the limits, hostile ones
// included: both paths must accept the same ones with the same values, and
// reject the same ones with a decode-class error.
func TestFastDecodeEdgeBodies(t *testing.T) {
	tx, pred := txParts(), predParts()
	enum := `{"type":"record","name":"E","fields":[{"name":"k","type":{"type":"enum","name":"K","symbols":["A","B"]}}]}`
	arrays := `{"type":"record","name":"A","fields":[{"name":"n","type":{"type":"array","items":"null"}},{"name":"f","type":{"type":"fixed","name":"F","size":2}}]}`
	tests := []struct {
		name, schema string
		body         []byte
		ok           bool
	}{
		{"transaction", TransactionSchema(), bytes.Join(tx, nil), true},
		{"null income", TransactionSchema(), with(tx, 25, zigzag(0)), true},
		{"overlong length read by goavro", TransactionSchema(), with(tx, 0, append(overlong(4, 12), "ev-1"...)), true},
		{"overlong long read by goavro", TransactionSchema(), with(tx, 2, overlong(-1, 30)), true},
		{"empty body", TransactionSchema(), nil, false},
		{"truncated double", TransactionSchema(), bytes.Join(tx, nil)[:60], false},
		{"truncated varint", TransactionSchema(), []byte{0x80}, false},
		{"trailing byte", TransactionSchema(), append(bytes.Join(tx, nil), 0), false},
		{"boolean 2", TransactionSchema(), with(tx, 23, []byte{2}), false},
		{"union index 2", TransactionSchema(), with(tx, 25, append(zigzag(2), dbl(1)...)), false},
		{"union index -1", TransactionSchema(), with(tx, 25, append(zigzag(-1), dbl(1)...)), false},
		{"negative length", TransactionSchema(), with(tx, 0, append(zigzag(-1), 'x')), false},
		{"length past the end", TransactionSchema(), with(tx, 24, append(zigzag(1000), "web"...)), false},
		{"huge length", TransactionSchema(), with(tx, 0, zigzag(math.MaxInt64)), false},
		{"prediction", PredictionSchema(), bytes.Join(pred, nil), true},
		{"negative block counts", PredictionSchema(), with(pred, 4,
			bytes.Join([][]byte{zigzag(-1), zigzag(4), flt(1), zigzag(-2), zigzag(8), flt(2), flt(3), {0}}, nil)), true},
		{"empty arrays", PredictionSchema(), with(with2(pred, 4, []byte{0}), 5, []byte{0}), true},
		{"overlong varint in a guarded schema", PredictionSchema(), with(pred, 9, overlong(3, 11)), false},
		{"10-byte varint in a guarded schema", PredictionSchema(), with(pred, 9, overlong(3, 10)), true},
		{"int wider than 32 bits", PredictionSchema(), with(pred, 9, zigzag(1<<40+5)), true},
		{"block count past the bytes left", PredictionSchema(), with(pred, 4, append(zigzag(3), flt(1)...)), false},
		{"block count over the limit", PredictionSchema(), with(pred, 4, zigzag(1<<40)), false},
		{"min int64 block count", PredictionSchema(), with(pred, 4, zigzag(math.MinInt64)), false},
		{"union index 5", PredictionSchema(), with(pred, 6, zigzag(5)), false},
		{"empty outputs map", PredictionSchema(), with(pred, 15, []byte{0}), true},
		{"repeated output key", PredictionSchema(), with(pred, 15,
			bytes.Join([][]byte{zigzag(2), str("a"), {0}, str("a"), zigzag(1), flt(7), {0}, {0}}, nil)), false},
		{"negative map block count", PredictionSchema(), with(pred, 15,
			bytes.Join([][]byte{zigzag(-1), zigzag(10), str("a"), zigzag(1), flt(7), {0}, {0}}, nil)), true},
		{"map block count past the bytes left", PredictionSchema(), with(pred, 15, append(zigzag(5), str("a")...)), false},
		{"map key past the end", PredictionSchema(), with(pred, 15, append(zigzag(1), zigzag(50)...)), false},
		{"1000 nulls", arrays, bytes.Join([][]byte{zigzag(1000), {0}, {1, 2}}, nil), true},
		{"nulls past the budget", arrays, bytes.Join([][]byte{zigzag(70000), {0}, {1, 2}}, nil), false},
		{"nulls in blocks past the budget", arrays, bytes.Join([][]byte{zigzag(60000), zigzag(10000), {0}, {1, 2}}, nil), false},
		{"short fixed", arrays, []byte{0, 1}, false},
		{"enum", enum, zigzag(1), true},
		{"enum index past the symbols", enum, zigzag(2), false},
		{"negative enum index", enum, zigzag(-1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEntry(t, tt.schema)
			if e.fast == nil {
				t.Fatal("no fast decoder")
			}
			want, werr := e.decodeGoavro(tt.body)
			got, gerr := e.fast.decode(tt.body)
			if (werr == nil) != tt.ok || (gerr == nil) != tt.ok {
				t.Fatalf("accepted: goavro %v (%v), fast %v (%v), want %v", werr == nil, werr, gerr == nil, gerr, tt.ok)
			}
			if tt.ok && !sameDecoded(got, want) {
				t.Fatalf("fast\n%#v\ngoavro\n%#v", got, want)
			}
			// Through Decode, errors have the goavro path's class.
			d := NewDecoder(nil, 0)
			mustPreload(t, d, 7, tt.schema)
			if _, _, err := d.Decode(t.Context(), AppendFrame(nil, 7, tt.body)); err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.Class != dlq.Decode {
					t.Fatalf("err = %v, want class decode", err)
				}
			}
		})
	}
}
