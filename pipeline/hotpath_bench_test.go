package pipeline_test

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// BenchmarkHotPathPerEvent is the worker's per-event CPU work outside
// Kafka and ONNX Runtime: decode a framed event (schema cached) into its
// fields, map them to its tensor row by position, and encode its
// Prediction. Run with -benchmem for
// allocations per event:
//
//	go test -run x -bench HotPath -benchmem ./pipeline/
func BenchmarkHotPathPerEvent(b *testing.B) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		b.Fatal(err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	client := testworker.StartRegistry(b, rdb).Client
	enc, err := schemas.NewEncoder(b.Context(), client, "features-value", schemas.TransactionSchema())
	if err != nil {
		b.Fatal(err)
	}
	gen := demo.NewGenerator(1)
	events := make([][]byte, 1024)
	for i := range events {
		if events[i], err = enc.Append(nil, gen.Next()); err != nil {
			b.Fatal(err)
		}
	}
	dec := schemas.NewDecoder(client, 0)
	first, _, err := dec.DecodeFields(b.Context(), events[0]) // caches the schema
	if err != nil {
		b.Fatal(err)
	}
	sig := training.DemoSignature()
	pos := sig.Positions(first.Names) // the worker keeps these per schema id
	at := func(name string) int {
		for i, n := range first.Names {
			if n == name {
				return i
			}
		}
		b.Fatalf("no field %s", name)
		return -1
	}
	idAt, entityAt, timeAt := at("event_id"), at("entity_id"), at("event_time")
	var row inference.Row
	scores := []float32{0.9, 0.1}
	buf := make([]byte, 0, 512)
	var p schemas.Prediction
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f, _, err := dec.DecodeFields(b.Context(), events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		if err := sig.MapFieldsInto(f.Values, pos, &row); err != nil {
			b.Fatal(err)
		}
		row.Release() // as the infer stage does once the sessions have it
		rec := f.Values
		out := sig.ReadOutput(scores)
		p = schemas.Prediction{
			EventID: rec[idAt].(string), EntityID: rec[entityAt].(string), ModelName: "fraud", ModelVersion: "1",
			Scores: scores, Classes: sig.Output.Classes, PredictedClass: out.Class, Score: out.Score,
			SourceTopic: "features", SourcePartition: 1, SourceOffset: int64(i), EventTime: rec[timeAt].(time.Time), BatchSize: 256,
		}
		buf = schemas.AppendPrediction(buf[:0], 2, &p)
		i++
	}
}

// BenchmarkHotPathHeavy is BenchmarkHotPathPerEvent for the heavy bench
// model's events: a 256-float array field mapped into a float32 tensor row.
//
//	go test -run x -bench HotPathHeavy -benchmem ./pipeline/
func BenchmarkHotPathHeavy(b *testing.B) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		b.Fatal(err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	client := testworker.StartRegistry(b, rdb).Client
	enc, err := schemas.NewEncoder(b.Context(), client, "embeddings-value", training.HeavySchema)
	if err != nil {
		b.Fatal(err)
	}
	events := make([][]byte, 256)
	for i := range events {
		emb := make([]any, training.HeavyInputWidth)
		for j := range emb {
			emb[j] = float32(i*j%97) / 97
		}
		rec := map[string]any{"event_id": "e", "entity_id": "k", "event_time": time.UnixMilli(int64(i)), "embedding": emb}
		if events[i], err = enc.Append(nil, rec); err != nil {
			b.Fatal(err)
		}
	}
	dec := schemas.NewDecoder(client, 0)
	first, _, err := dec.DecodeFields(b.Context(), events[0])
	if err != nil {
		b.Fatal(err)
	}
	sig := training.HeavySignature()
	pos := sig.Positions(first.Names)
	var row inference.Row
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f, _, err := dec.DecodeFields(b.Context(), events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		if err := sig.MapFieldsInto(f.Values, pos, &row); err != nil {
			b.Fatal(err)
		}
		row.Release()
		i++
	}
}
