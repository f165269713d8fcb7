package schemas

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestDecodeRoundTrip(t *testing.T) {
	reg := startRegistry(t)
	enc, err := NewEncoder(t.Context(), reg.client, Subject("features"), TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	// A decoder with its own client, so nothing is cached from registering.
	dec := NewDecoder(newTestClient(t, reg.http.URL), 0)
	for _, income := range []any{52000.0, nil} {
		in := sampleTransaction()
		in["customer_income"] = income
		framed, err := enc.Append(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		out, id, err := dec.Decode(t.Context(), framed)
		if err != nil {
			t.Fatal(err)
		}
		if id != enc.ID() {
			t.Fatalf("id %d, want %d", id, enc.ID())
		}
		if !reflect.DeepEqual(out, in) {
			t.Fatalf("decoded\n%#v\nwant\n%#v", out, in)
		}
		if _, ok := out["event_time"].(time.Time); !ok {
			t.Fatalf("event_time is %T", out["event_time"])
		}
	}
}

// TestDecodeSchemaVersions reads records written with an older and a newer
// version of the transaction schema with one decoder, by field name.
func TestDecodeSchemaVersions(t *testing.T) {
	reg := startRegistry(t)
	ctx := t.Context()
	current := TransactionSchema()
	newer := strings.Replace(current, `{"name": "customer_income"`,
		`{"name": "merchant_name", "type": "string", "default": "unknown"}, {"name": "customer_income"`, 1)
	older := strings.Replace(current, `{"name": "mcc_risk", "type": "double"},`, "", 1)
	if newer == current || older == current {
		t.Fatal("schema edits did not apply")
	}
	dec := NewDecoder(reg.client, 0)
	// Dropping a field without a default is not BACKWARD compatible, so the
	// older version lives under a subject of its own.
	tests := []struct {
		name    string
		subject string
		schema  string
		edit    func(map[string]any)
		present string
		absent  string
	}{
		{"older", "old-value", older, func(m map[string]any) { delete(m, "mcc_risk") }, "amount", "mcc_risk"},
		{"current", "features-value", current, func(map[string]any) {}, "mcc_risk", "merchant_name"},
		{"newer", "features-value", newer, func(m map[string]any) { m["merchant_name"] = "acme" }, "merchant_name", ""},
	}
	ids := map[int32]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := NewEncoder(ctx, reg.client, tt.subject, tt.schema)
			if err != nil {
				t.Fatal(err)
			}
			ids[enc.ID()] = true
			in := sampleTransaction()
			tt.edit(in)
			framed, err := enc.Append(nil, in)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := dec.Decode(ctx, framed)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, in) {
				t.Fatalf("decoded %v, want %v", out, in)
			}
			if _, ok := out[tt.present]; !ok {
				t.Fatalf("field %s missing", tt.present)
			}
			if _, ok := out[tt.absent]; ok && tt.absent != "" {
				t.Fatalf("field %s present", tt.absent)
			}
			if out["amount"] != 0.5 || out["customer_income"] != 52000.0 {
				t.Fatalf("by name: amount %v income %v", out["amount"], out["customer_income"])
			}
		})
	}
	if len(ids) != 3 {
		t.Fatalf("%d distinct ids for three versions", len(ids))
	}
}

func TestDecodeErrorClasses(t *testing.T) {
	reg := startRegistry(t)
	enc, err := NewEncoder(t.Context(), reg.client, Subject("features"), TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	good, err := enc.Append(nil, sampleTransaction())
	if err != nil {
		t.Fatal(err)
	}
	dec := NewDecoder(reg.client, len(good)+10)
	tests := []struct {
		name  string
		in    []byte
		class dlq.Class
		is    error
	}{
		{"empty", nil, dlq.Empty, ErrEmpty},
		{"short", []byte{0, 0, 1}, dlq.ShortFrame, ErrShortFrame},
		{"bad magic", []byte(`{"event_id":"x"}`), dlq.BadMagic, ErrBadMagic},
		{"unknown id", AppendFrame(nil, 4242, good[HeaderSize:]), dlq.UnknownSchema, ErrUnknownSchema},
		{"too large", append(append([]byte{}, good...), make([]byte, 11)...), dlq.TooLarge, ErrTooLarge},
		{"truncated", good[:len(good)-3], dlq.Decode, nil},
		{"trailing bytes", append(append([]byte{}, good...), 1, 2), dlq.Decode, nil},
		{"no body", good[:HeaderSize], dlq.Decode, nil},
		{"garbage body", AppendFrame(nil, enc.ID(), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), dlq.Decode, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := dec.Decode(t.Context(), tt.in)
			var de *DecodeError
			if !errors.As(err, &de) || de.Class != tt.class {
				t.Fatalf("err = %v, want class %s", err, tt.class)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if errors.Is(err, ErrRegistryUnavailable) {
				t.Fatalf("err = %v matches ErrRegistryUnavailable", err)
			}
		})
	}
}

func TestDecodeRegistryDown(t *testing.T) {
	reg := startRegistry(t)
	enc, err := NewEncoder(t.Context(), reg.client, Subject("features"), TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	framed, _ := enc.Append(nil, sampleTransaction())
	dec := NewDecoder(newTestClient(t, reg.http.URL), 0)
	if _, _, err := dec.Decode(t.Context(), framed); err != nil {
		t.Fatal(err)
	}
	reg.http.Close()
	// The cached codec needs no registry.
	if _, _, err := dec.Decode(t.Context(), framed); err != nil {
		t.Fatalf("cached id with registry down: %v", err)
	}
	// A new id does.
	cold := NewDecoder(newTestClient(t, reg.http.URL), 0)
	_, _, err = cold.Decode(t.Context(), framed)
	var de *DecodeError
	if !isUnavailable(err) || errors.As(err, &de) {
		t.Fatalf("err = %v, want ErrRegistryUnavailable and no DecodeError", err)
	}
}

// TestDecodeHostileLengths feeds bodies whose length prefixes claim
// gigabytes, and checks they fail fast as decode errors without allocating.
func TestDecodeHostileLengths(t *testing.T) {
	dec := NewDecoder(nil, 0)
	mustPreload(t, dec, 1, TransactionSchema())
	mustPreload(t, dec, 2, PredictionSchema())
	mustPreload(t, dec, 3, `{"type":"record","name":"N","fields":[{"name":"a","type":{"type":"array","items":{"type":"array","items":"null"}}}]}`)
	mustPreload(t, dec, 4, `{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"null"}}]}`)
	mustPreload(t, dec, 5, `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`)

	giga := zigzag(1 << 32)
	tests := []struct {
		name string
		id   int32
		body []byte
	}{
		{"string length 4 GiB", 1, append(giga, 'x')},
		{"negative string length", 1, zigzag(-5)},
		{"array count 2^30", 2, append(append([]byte{}, predictionPrefix()...), zigzag(1<<30)...)},
		{"float array longer than body", 2, append(append([]byte{}, predictionPrefix()...), append(zigzag(60000), make([]byte, 100)...)...)},
		{"array of null arrays", 3, repeat(append(zigzag(1<<19), 0), 1000)},
		{"map count 4 GiB", 4, giga},
		{"nested null arrays over budget", 3, append(zigzag(60000), repeat(zigzag(60000), 60000)...)},
		{"deep recursion", 5, repeat([]byte{2}, 10000)},
		{"negative block count min", 2, append(append([]byte{}, predictionPrefix()...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			framed := AppendFrame(nil, tt.id, tt.body)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, _, err := dec.Decode(t.Context(), framed)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			var de *DecodeError
			if !errors.As(err, &de) || de.Class != dlq.Decode {
				t.Fatalf("err = %v, want class decode", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20+uint64(16*len(framed)) {
				t.Fatalf("allocated %d bytes for a %d-byte record", alloc, len(framed))
			}
			if elapsed > time.Second {
				t.Fatalf("took %v", elapsed)
			}
		})
	}
}

// predictionPrefix is a prediction body up to its scores array.
func predictionPrefix() []byte {
	var b []byte
	for range 4 {
		b = append(b, zigzag(1)...)
		b = append(b, 'x')
	}
	return b
}

func zigzag(v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	var b []byte
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func repeat(b []byte, n int) []byte {
	out := make([]byte, 0, len(b)*n)
	for range n {
		out = append(out, b...)
	}
	return out
}

func mustPreload(t testing.TB, d *Decoder, id int32, schema string) {
	t.Helper()
	if err := d.preload(id, schema); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeNormalisesNestedUnions(t *testing.T) {
	reg := startRegistry(t)
	schema := `{"type":"record","name":"Outer","namespace":"t","fields":[
		{"name":"list","type":{"type":"array","items":["null","long"]}},
		{"name":"dict","type":{"type":"map","values":["string","null"]}},
		{"name":"inner","type":["null",{"type":"record","name":"Inner","fields":[{"name":"x","type":["null","float"]}]}]},
		{"name":"when","type":["null",{"type":"long","logicalType":"timestamp-millis"}]},
		{"name":"either","type":["int","string"]},
		{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}}
	]}`
	enc, err := NewEncoder(t.Context(), reg.client, "outer-value", schema)
	if err != nil {
		t.Fatal(err)
	}
	when := time.UnixMilli(1_700_000_000_000).UTC()
	framed, err := enc.Append(nil, map[string]any{
		"list":   []any{nil, map[string]any{"long": int64(7)}},
		"dict":   map[string]any{"a": map[string]any{"string": "s"}, "b": nil},
		"inner":  map[string]any{"x": map[string]any{"float": float32(1.5)}},
		"when":   when,
		"either": map[string]any{"string": "s"},
		"kind":   "B",
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := NewDecoder(reg.client, 0).Decode(t.Context(), framed)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"list":   []any{nil, int64(7)},
		"dict":   map[string]any{"a": "s", "b": nil},
		"inner":  map[string]any{"x": float32(1.5)},
		"when":   when,
		"either": map[string]any{"string": "s"},
		"kind":   "B",
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("decoded\n%#v\nwant\n%#v", out, want)
	}
}

func TestDecodeUnusableSchemas(t *testing.T) {
	tests := []struct{ name, schema string }{
		{"not a record", `"string"`},
		{"not avro", `{"type":"nope"}`},
		{"not json", `syntax = "proto3";`},
		{"decimal without precision", `{"type":"record","name":"D","fields":[{"name":"a","type":{"type":"bytes","logicalType":"decimal"}},{"name":"b","type":{"type":"bytes","logicalType":"decimal"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := NewDecoder(nil, 0)
			_ = dec.preload(9, tt.schema)
			_, _, err := dec.Decode(t.Context(), AppendFrame(nil, 9, []byte{2, 'a'}))
			var de *DecodeError
			if !errors.As(err, &de) || de.Class != dlq.Decode {
				t.Fatalf("err = %v, want class decode", err)
			}
		})
	}
}

func TestDecodeUnknownIDAskedOnce(t *testing.T) {
	rd := testkit.StartRedis(t)
	var hits atomic.Int32
	inner := NewServer(rd.Client())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	dec := NewDecoder(newTestClient(t, srv.URL), 0)
	framed := AppendFrame(nil, 77, []byte{2, 'x'})
	for range 5 {
		_, _, err := dec.Decode(t.Context(), framed)
		var de *DecodeError
		if !errors.As(err, &de) || de.Class != dlq.UnknownSchema || !errors.Is(err, ErrUnknownSchema) {
			t.Fatalf("err = %v, want unknown_schema", err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d registry requests for one unknown id, want 1", n)
	}
}
