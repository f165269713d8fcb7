package schemas

import (
	"reflect"
	"testing"

	"github.com/linkedin/goavro/v2"
)

func mustCodec(t testing.TB, schema string) *goavro.Codec {
	t.Helper()
	c, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func richNative() map[string]any {
	return map[string]any{
		"tags":   []any{"a", "", "ccc"},
		"counts": map[string]any{"x": int64(-1), "y": int64(1 << 40)},
		"parts": []any{
			map[string]any{"id": int32(1), "w": nil},
			map[string]any{"id": int32(2), "w": map[string]any{"double": 0.5}},
		},
		"kind":   "C",
		"hash":   []byte{1, 2, 3, 4},
		"nested": map[string]any{"k": []any{true, false}, "e": []any{}},
		"raw":    []byte{},
		"f":      float32(2.5),
	}
}

func richSample() ([]byte, error) {
	c, err := goavro.NewCodec(richSchema)
	if err != nil {
		return nil, err
	}
	return c.BinaryFromNative(nil, richNative())
}

// TestGuardAcceptsValidBodies checks that the guard passes what goavro
// writes, including blocks with negative counts (which carry a byte size).
func TestGuardAcceptsValidBodies(t *testing.T) {
	body, err := richSample()
	if err != nil {
		t.Fatal(err)
	}
	root := mustParse(t, richSchema)
	if !root.risky {
		t.Fatal("schema with arrays not marked risky")
	}
	if err := guardBody(root, body); err != nil {
		t.Fatalf("guard rejects goavro's own output: %v", err)
	}

	// {"tags": one block of -2 items (size 4) then 0}, the rest empty.
	arr := `{"type":"record","name":"A","fields":[{"name":"tags","type":{"type":"array","items":"string"}}]}`
	neg := []byte{3, 8, 2, 'a', 2, 'b', 0}
	if err := guardBody(mustParse(t, arr), neg); err != nil {
		t.Fatalf("negative block count: %v", err)
	}
	v, rest, err := mustCodec(t, arr).NativeFromBinary(neg)
	if err != nil || len(rest) != 0 || !reflect.DeepEqual(v, map[string]any{"tags": []any{"a", "b"}}) {
		t.Fatalf("goavro reads %v %x %v", v, rest, err)
	}

	d := NewDecoder(nil, 0)
	mustPreload(t, d, 3, richSchema)
	out, _, err := d.Decode(t.Context(), AppendFrame(nil, 3, body))
	if err != nil {
		t.Fatal(err)
	}
	want := richNative()
	want["parts"].([]any)[1].(map[string]any)["w"] = 0.5
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("decoded\n%#v\nwant\n%#v", out, want)
	}
}

func TestDeriveFlags(t *testing.T) {
	tests := []struct {
		schema      string
		risky, norm bool
		minSize     int
	}{
		{TransactionSchema(), false, true, 3 + 20*8 + 1 + 1 + 1}, // a null union takes one byte
		{PredictionSchema(), true, true, 0},
		{`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, false, false, 1},
		{`{"type":"record","name":"L","fields":[{"name":"n","type":["null","L"]}]}`, true, true, 1},
	}
	for _, tt := range tests {
		n := mustParse(t, tt.schema)
		if n.risky != tt.risky || n.norm != tt.norm || (tt.minSize > 0 && n.minSize != tt.minSize) {
			t.Errorf("%.40s: risky %v norm %v minSize %d", tt.schema, n.risky, n.norm, n.minSize)
		}
	}
}
