package schemas

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
	"time"
)

func samplePrediction() map[string]any {
	return map[string]any{
		"event_id": "ev-1", "entity_id": "card-42", "model_name": "fraud", "model_version": "3",
		"scores": []any{float32(0.25), float32(0.75)}, "classes": []any{"legit", "fraud"},
		"predicted_class": "fraud", "score": float32(0.75),
		"source_topic": "features", "source_partition": int32(2), "source_offset": int64(99),
		"event_time": time.UnixMilli(1_700_000_000_000).UTC(),
		"queued_us":  int64(120), "inference_us": int64(800), "batch_size": int32(64),
	}
}

func TestEncoderNullableForms(t *testing.T) {
	reg := startRegistry(t)
	enc, err := NewEncoder(t.Context(), reg.client, Subject("predictions"), PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	plain := samplePrediction()
	wrapped := samplePrediction()
	wrapped["predicted_class"] = map[string]any{"string": "fraud"}

	a, err := enc.Append(nil, plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.Append(nil, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("plain and wrapped nullable values encode differently:\n%x\n%x", a, b)
	}
	if plain["predicted_class"] != "fraud" {
		t.Fatal("Append modified its input")
	}
	out, id, err := NewDecoder(reg.client, 0).Decode(t.Context(), a)
	if err != nil || id != enc.ID() {
		t.Fatalf("decode: id %d err %v", id, err)
	}
	want := samplePrediction()
	want["scores"] = []float32{0.25, 0.75} // arrays of floats decode typed
	want["outputs"] = map[string]any{}     // the default of a field the record left out
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("decoded\n%#v\nwant\n%#v", out, want)
	}

	// Nil and an absent nullable field (default null) encode alike.
	withNil := samplePrediction()
	withNil["predicted_class"] = nil
	absent := samplePrediction()
	delete(absent, "predicted_class")
	x, err1 := enc.Append(nil, withNil)
	y, err2 := enc.Append(nil, absent)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Fatalf("nil vs absent: %v %v\n%x\n%x", err1, err2, x, y)
	}
}

func TestEncoderErrorKeepsDst(t *testing.T) {
	reg := startRegistry(t)
	enc, err := NewEncoder(t.Context(), reg.client, Subject("predictions"), PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	bad := samplePrediction()
	bad["score"] = "high"
	dst := []byte("prefix")
	out, err := enc.Append(dst, bad)
	if err == nil || string(out) != "prefix" {
		t.Fatalf("got %q, %v; want the prefix back and an error", out, err)
	}
	if _, err := NewEncoder(t.Context(), reg.client, "x-value", `"string"`); err == nil {
		t.Fatal("encoder for a non-record schema")
	}
}

func TestEncoderConcurrent(t *testing.T) {
	reg := startRegistry(t)
	enc, err := NewEncoder(t.Context(), reg.client, Subject("features"), TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	want, err := enc.Append(nil, sampleTransaction())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			buf := make([]byte, 0, 512)
			rec := sampleTransaction()
			for range 200 {
				var err error
				if buf, err = enc.Append(buf[:0], rec); err != nil || !bytes.Equal(buf, want) {
					t.Errorf("concurrent append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEncodeTransaction(b *testing.B) {
	reg := startRegistryTB(b)
	enc, err := NewEncoder(b.Context(), reg.client, Subject("features"), TransactionSchema())
	if err != nil {
		b.Fatal(err)
	}
	rec := sampleTransaction()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = enc.Append(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTransaction(b *testing.B) {
	reg := startRegistryTB(b)
	enc, err := NewEncoder(b.Context(), reg.client, Subject("features"), TransactionSchema())
	if err != nil {
		b.Fatal(err)
	}
	framed, _ := enc.Append(nil, sampleTransaction())
	benchDecodePaths(b, reg.client, framed)
}

func BenchmarkDecodePrediction(b *testing.B) {
	reg := startRegistryTB(b)
	enc, err := NewEncoder(b.Context(), reg.client, Subject("predictions"), PredictionSchema())
	if err != nil {
		b.Fatal(err)
	}
	framed, _ := enc.Append(nil, samplePrediction())
	benchDecodePaths(b, reg.client, framed)
}

func BenchmarkEncodePrediction(b *testing.B) {
	reg := startRegistryTB(b)
	enc, err := NewEncoder(b.Context(), reg.client, Subject("predictions"), PredictionSchema())
	if err != nil {
		b.Fatal(err)
	}
	rec := samplePrediction() // predicted_class as a plain string: the wrapping path
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = enc.Append(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
	}
}
