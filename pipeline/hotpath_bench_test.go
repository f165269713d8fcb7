package pipeline_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/retrain"
	"github.com/sluice-ml/sluice/schemas"
)

// BenchmarkHotPathPerEvent is the worker's per-event CPU work outside
// Kafka and ONNX Runtime: decode a framed event (schema cached), map it to
// its tensor row, and encode its Prediction. Run with -benchmem for
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
	srv := httptest.NewServer(schemas.NewServer(rdb))
	defer srv.Close()
	client := schemas.NewClient(srv.URL, nil)
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
	if _, _, err := dec.Decode(b.Context(), events[0]); err != nil { // caches the schema
		b.Fatal(err)
	}
	sig := retrain.DemoSignature()
	row := make([]float32, sig.Width())
	scores := []float32{0.9, 0.1}
	buf := make([]byte, 0, 512)
	var p schemas.Prediction
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rec, _, err := dec.Decode(b.Context(), events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		if err := sig.MapRow(rec, row); err != nil {
			b.Fatal(err)
		}
		out := sig.ReadOutput(scores)
		p = schemas.Prediction{
			EventID: rec["event_id"].(string), EntityID: rec["entity_id"].(string), ModelName: "fraud", ModelVersion: "1",
			Scores: scores, Classes: sig.Output.Classes, PredictedClass: out.Class, Score: out.Score,
			SourceTopic: "features", SourcePartition: 1, SourceOffset: int64(i), EventTime: rec["event_time"].(time.Time), BatchSize: 256,
		}
		buf = schemas.AppendPrediction(buf[:0], 2, &p)
		i++
	}
}
