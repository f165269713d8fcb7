package schemas

import (
	"reflect"
	"testing"
)

// fastSchema has every type the fast decoder reads.
const fastSchema = `{"type":"record","name":"Fast","namespace":"f","fields":[
	{"name":"n","type":"null"},
	{"name":"b","type":"boolean"},
	{"name":"i","type":"int"},
	{"name":"l","type":"long"},
	{"name":"f","type":"float"},
	{"name":"d","type":"double"},
	{"name":"s","type":"string"},
	{"name":"raw","type":"bytes"},
	{"name":"ts_ms","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"ts_us","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"day","type":{"type":"int","logicalType":"date"}},
	{"name":"t_ms","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"t_us","type":{"type":"long","logicalType":"time-micros"}},
	{"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
	{"name":"odd","type":{"type":"long","logicalType":"no-such-type"}},
	{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}},
	{"name":"hash","type":{"type":"fixed","name":"Hash","size":4}},
	{"name":"o_b","type":["null","boolean"]},
	{"name":"o_i","type":["int","null"]},
	{"name":"o_l","type":["null","long"]},
	{"name":"o_f","type":["float","null"]},
	{"name":"o_d","type":["null","double"]},
	{"name":"o_s","type":["string","null"]},
	{"name":"o_raw","type":["null","bytes"]},
	{"name":"o_ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}]},
	{"name":"o_day","type":[{"type":"int","logicalType":"date"},"null"]},
	{"name":"o_kind","type":["null","Kind"]},
	{"name":"o_hash","type":["Hash","null"]},
	{"name":"a_l","type":{"type":"array","items":"long"}},
	{"name":"a_s","type":{"type":"array","items":"string"}},
	{"name":"a_f","type":{"type":"array","items":"float"}},
	{"name":"a_d","type":{"type":"array","items":"double"}},
	{"name":"a_b","type":{"type":"array","items":"boolean"}},
	{"name":"a_n","type":{"type":"array","items":"null"}},
	{"name":"a_kind","type":{"type":"array","items":"Kind"}},
	{"name":"a_ts","type":{"type":"array","items":{"type":"long","logicalType":"timestamp-micros"}}},
	{"name":"a_o","type":{"type":"array","items":["null","double"]}},
	{"name":"o_a","type":["null",{"type":"array","items":"int"}]}
]}`

// heavySchema is training.HeavySchema (retrain needs ONNX Runtime to import).
const heavySchema = `{"type":"record","name":"Embedding","namespace":"sluice.bench","fields":[
	{"name":"event_id","type":"string"},
	{"name":"entity_id","type":"string"},
	{"name":"event_time","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"embedding","type":{"type":"array","items":"float"}}
]}`

func mustEntry(t testing.TB, schema string) *codecEntry {
	t.Helper()
	e := compile(schema)
	if e.err != nil {
		t.Fatal(e.err)
	}
	return e
}

func TestFastDecodeCompiles(t *testing.T) {
	rec := func(typ string) string {
		return `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"x","type":` + typ + `}]}`
	}
	tests := []struct {
		name, schema string
		fast         bool
	}{
		{"transaction", TransactionSchema(), true},
		{"prediction", PredictionSchema(), true},
		{"heavy", heavySchema, true},
		{"every fast type", fastSchema, true},
		{"nested record", rec(`{"type":"record","name":"In","fields":[{"name":"y","type":"int"}]}`), false},
		{"map", rec(`{"type":"map","values":"long"}`), true},
		{"map of arrays", rec(`{"type":"map","values":{"type":"array","items":"float"}}`), true},
		{"map of records", rec(`{"type":"map","values":{"type":"record","name":"In","fields":[]}}`), false},
		{"array of maps", rec(`{"type":"array","items":{"type":"map","values":"int"}}`), false},
		{"two-type union", rec(`["int","string"]`), false},
		{"null-and-two union", rec(`["null","int","string"]`), false},
		{"one-branch union", rec(`["string"]`), false},
		{"bytes decimal", rec(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`), false},
		{"fixed decimal", rec(`{"type":"fixed","name":"Dec","size":8,"logicalType":"decimal","precision":4,"scale":2}`), false},
		{"array of arrays", rec(`{"type":"array","items":{"type":"array","items":"int"}}`), false},
		{"array of records", rec(`{"type":"array","items":{"type":"record","name":"In","fields":[]}}`), false},
		{"array of nullable arrays", rec(`{"type":"array","items":["null",{"type":"array","items":"int"}]}`), false},
		{"nullable array of nullables", rec(`["null",{"type":"array","items":["null","int"]}]`), false},
		{"recursive", `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustEntry(t, tt.schema).fast != nil; got != tt.fast {
				t.Fatalf("fast decoder compiled: %v, want %v", got, tt.fast)
			}
		})
	}
}

// TestFastDecodeFallback checks that a schema the fast decoder does not
// cover decodes through goavro, normalised as before.
func TestFastDecodeFallback(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[{"name":"id","type":"string"},
		{"name":"in","type":["null",{"type":"record","name":"In","fields":[{"name":"x","type":["null","float"]}]}]}]}`
	e := mustEntry(t, schema)
	if e.fast != nil {
		t.Fatal("nested records compiled to a fast decoder")
	}
	body, err := e.codec.BinaryFromNative(nil, map[string]any{
		"id": "a", "in": map[string]any{"In": map[string]any{"x": map[string]any{"float": float32(2)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(nil, 0)
	mustPreload(t, d, 1, schema)
	got, _, err := d.Decode(t.Context(), AppendFrame(nil, 1, body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "a", "in": map[string]any{"x": float32(2)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}
