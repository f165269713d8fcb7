package schemas

import "testing"

// benchDecodePaths benchmarks Decode of framed with the fast path and with
// the goavro path, side by side in one run. Besides wall time it reports the
// process's CPU time per op (GC included), steadier on a busy machine.
func benchDecodePaths(b *testing.B, c *Client, framed []byte, preload ...string) {
	for _, path := range []struct {
		name   string
		goavro bool
	}{{"fast", false}, {"goavro", true}} {
		b.Run(path.name, func(b *testing.B) {
			dec := NewDecoder(c, 0)
			dec.goavro = path.goavro
			for _, schema := range preload {
				mustPreload(b, dec, 1, schema)
			}
			if _, _, err := dec.Decode(b.Context(), framed); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, _, err := dec.Decode(b.Context(), framed); err != nil {
					b.Fatal(err)
				}
			}
			if cpu > 0 {
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkDecodeHeavy decodes an event of the heavy benchmark model: ids, a
// time and 256 floats.
func BenchmarkDecodeHeavy(b *testing.B) {
	e := mustEntry(b, heavySchema)
	emb := make([]any, 256)
	for i := range emb {
		emb[i] = float32(i)/256 - 0.5
	}
	body, err := e.codec.BinaryFromNative(nil, map[string]any{
		"event_id": "ev-1", "entity_id": "card-42", "event_time": int64(1_700_000_000_123), "embedding": emb,
	})
	if err != nil {
		b.Fatal(err)
	}
	benchDecodePaths(b, nil, AppendFrame(nil, 1, body), heavySchema)
}
