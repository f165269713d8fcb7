package schemas

import (
	"reflect"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestAppendPredictionReadsBackWithGoavro(t *testing.T) {
	codec, err := goavro.NewCodec(PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1764000000123).UTC()
	tests := []struct {
		name string
		p    Prediction
	}{
		{"classes", Prediction{
			EventID: "e-1", EntityID: "card-000042", ModelName: "fraud", ModelVersion: "12",
			Scores: []float32{0.25, 0.75}, Classes: []string{"legit", "fraud"}, PredictedClass: "fraud", Score: 0.75,
			SourceTopic: "features", SourcePartition: 3, SourceOffset: 1 << 40, EventTime: at,
			QueuedUS: 1234, InferenceUS: 56, BatchSize: 256,
		}},
		{"score", Prediction{
			EventID: "e-2", EntityID: "", ModelName: "m", ModelVersion: "1",
			Scores: []float32{-3.5}, Score: -3.5, SourceTopic: "t", SourcePartition: 0, SourceOffset: 0,
			EventTime: time.UnixMilli(0).UTC(), QueuedUS: -1, InferenceUS: 0, BatchSize: 1,
		}},
		{"empty", Prediction{EventTime: time.UnixMilli(0).UTC()}},
		{"named outputs", Prediction{
			EventID: "e-3", ModelName: "m", ModelVersion: "2", EventTime: time.UnixMilli(5).UTC(), BatchSize: 1,
			Outputs: []NamedOutput{{Name: "embedding", Values: []float32{1, -2.5, 3}}, {Name: "empty", Values: nil}, {Name: "second score", Values: []float32{0.5}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendPrediction([]byte("prefix"), 77, &tt.p)
			if string(b[:6]) != "prefix" {
				t.Fatal("dst was overwritten")
			}
			id, body, err := ParseFrame(b[6:])
			if err != nil || id != 77 {
				t.Fatalf("frame: id %d, %v", id, err)
			}
			native, rest, err := codec.NativeFromBinary(body)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 {
				t.Fatalf("%d trailing bytes", len(rest))
			}
			got := native.(map[string]any)
			scores := []any{}
			for _, s := range tt.p.Scores {
				scores = append(scores, s)
			}
			classes := []any{}
			for _, c := range tt.p.Classes {
				classes = append(classes, c)
			}
			outputs := map[string]any{}
			for _, o := range tt.p.Outputs {
				vals := []any{}
				for _, v := range o.Values {
					vals = append(vals, v)
				}
				outputs[o.Name] = vals
			}
			var predicted any
			if tt.p.PredictedClass != "" {
				predicted = map[string]any{"string": tt.p.PredictedClass}
			}
			want := map[string]any{
				"event_id": tt.p.EventID, "entity_id": tt.p.EntityID, "model_name": tt.p.ModelName,
				"model_version": tt.p.ModelVersion, "scores": scores, "classes": classes,
				"predicted_class": predicted, "score": tt.p.Score, "source_topic": tt.p.SourceTopic,
				"source_partition": tt.p.SourcePartition, "source_offset": tt.p.SourceOffset,
				"event_time": tt.p.EventTime, "queued_us": tt.p.QueuedUS, "inference_us": tt.p.InferenceUS,
				"batch_size": tt.p.BatchSize, "outputs": outputs,
			}
			for k, w := range want {
				g := got[k]
				if gt, ok := g.(time.Time); ok {
					g = gt.UTC()
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s = %#v, want %#v", k, g, w)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d fields read back, want %d", len(got), len(want))
			}
		})
	}
}

func BenchmarkAppendPrediction(b *testing.B) {
	p := Prediction{
		EventID: "0c9a3a52-8d7e-4d0b-9d55-0e7f9d1f3a11", EntityID: "card-000042", ModelName: "fraud", ModelVersion: "12",
		Scores: []float32{0.25, 0.75}, Classes: []string{"legit", "fraud"}, PredictedClass: "fraud", Score: 0.75,
		SourceTopic: "features", SourcePartition: 3, SourceOffset: 123456, EventTime: time.Now(), BatchSize: 256,
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPrediction(buf[:0], 1, &p)
	}
}
