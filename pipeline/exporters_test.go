package pipeline_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testmodels"
	"github.com/sluice-ml/sluice/internal/testworker"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
)

// These tests serve real exporters' models end to end: Avro events on
// their own topic (schema in the embedded registry) through the in-process
// broker over TCP, a worker scoring them in ONNX Runtime, predictions read
// back from the predictions topic and checked against values computed
// without ONNX Runtime (internal/testmodels).

// served is a worker serving one model from its own input topic.
type served struct {
	env   *testworker.Env
	topic string
	enc   *schemas.Encoder
}

// serve starts a worker serving the named model from topic, whose records
// have the Avro schema; cfg names the rest.
func serve(t *testing.T, model, topic, schema string, cfg pipeline.Config) *served {
	t.Helper()
	env := testworker.New(t, 1)
	env.Kafka.CreateTopic(t, topic, 1)
	env.Kafka.CreateTopic(t, topic+".dlq", 1)
	enc, err := schemas.NewEncoder(t.Context(), env.Client, schemas.Subject(topic), schema)
	if err != nil {
		t.Fatal(err)
	}
	onnx, sigYAML := testmodels.Model(t, model)
	sig, err := inference.ParseSignature(sigYAML)
	if err != nil {
		t.Fatal(err)
	}
	cfg.InputTopic, cfg.DLQTopic, cfg.Group = topic, topic+".dlq", "serve-"+model
	w := env.StartWorker(cfg, testworker.Options{ONNX: onnx, Sig: sig})
	w.WaitReady(t)
	return &served{env: env, topic: topic, enc: enc}
}

// publish writes recs keyed k0, k1, ... and returns the messages' times.
func (s *served) publish(t *testing.T, recs []map[string]any) time.Time {
	t.Helper()
	msgs := make([]kafka.Message, len(recs))
	for i, rec := range recs {
		v, err := s.enc.Append(nil, rec)
		if err != nil {
			t.Fatalf("encoding record %d: %v", i, err)
		}
		msgs[i] = kafka.Message{Key: []byte("k" + strconv.Itoa(i)), Value: v}
	}
	before := time.Now().Add(-time.Second)
	s.env.PublishTo(s.topic, msgs...)
	return before
}

// predictions reads n predictions and returns them by key.
func (s *served) predictions(t *testing.T, n int) map[string]map[string]any {
	t.Helper()
	byKey := map[string]map[string]any{}
	for _, p := range s.env.Read(testworker.Predictions, n, 60*time.Second, 200*time.Millisecond) {
		byKey[string(p.Msg.Key)] = p.Rec
	}
	if len(byKey) != n {
		t.Fatalf("%d predictions for %d events", len(byKey), n)
	}
	return byKey
}

func nearly(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5+1e-5*math.Abs(want[i]) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}

func predictedClass(p map[string]any) string {
	if u, ok := p["predicted_class"].(map[string]any); ok {
		s, _ := u["string"].(string)
		return s
	}
	s, _ := p["predicted_class"].(string)
	return s
}

const irisSchema = `{"type": "record", "name": "Iris", "namespace": "test", "fields": [
  {"name": "sepal_length", "type": "float"}, {"name": "sepal_width", "type": "float"},
  {"name": "petal_length", "type": "double"}, {"name": "petal_width", "type": "double"}]}`

// scikit-learn through skl2onnx: a ZipMap of probabilities and an int64
// label. The schema has none of the identifying fields, so each prediction
// is named topic/partition/offset, keyed and entity-named by the message
// key, and timed by the message timestamp.
func TestExporterSklearnRandomForestEndToEnd(t *testing.T) {
	s := serve(t, "sklearn_randomforest", "iris", irisSchema, pipeline.Config{})
	iris := testmodels.Iris
	recs := make([]map[string]any, len(iris.Rows))
	for i, r := range iris.Rows {
		recs[i] = map[string]any{"sepal_length": r[0], "sepal_width": r[1], "petal_length": float64(r[2]), "petal_width": float64(r[3])}
	}
	before := s.publish(t, recs)
	preds := s.predictions(t, len(recs))
	for i := range recs {
		key := "k" + strconv.Itoa(i)
		p := preds[key]
		if got, want := predictedClass(p), strconv.FormatInt(iris.Labels[i], 10); got != want {
			t.Errorf("%s: predicted_class %q, want %q (the label output)", key, got, want)
		}
		want := []float64{float64(iris.Probs[i][0]), float64(iris.Probs[i][1]), float64(iris.Probs[i][2])}
		scores := p["scores"].([]float32)
		nearly(t, key+" scores", scores, want)
		if classes := fmt.Sprint(p["classes"]); classes != "[0 1 2]" {
			t.Errorf("%s: classes %s, want [0 1 2] (the ZipMap's keys)", key, classes)
		}
		if p["score"].(float32) != scores[iris.Labels[i]] {
			t.Errorf("%s: score %v, want the predicted class's probability %v", key, p["score"], scores[iris.Labels[i]])
		}
		if p["event_id"] != fmt.Sprintf("iris/0/%d", i) || p["entity_id"] != key {
			t.Errorf("%s: event_id %v entity_id %v, want iris/0/%d and the key", key, p["event_id"], p["entity_id"], i)
		}
		if at := p["event_time"].(time.Time); at.Before(before) || at.After(time.Now()) {
			t.Errorf("%s: event_time %v, want the message's timestamp", key, at)
		}
	}
}

// PyTorch models: one ending in softmax, one in logits with its hidden
// layer as a vector output, and two exported with a fixed batch size.
func TestExporterPyTorchEndToEnd(t *testing.T) {
	columns := `{"type": "record", "name": "Four", "namespace": "test", "fields": [
  {"name": "event_id", "type": "string"},
  {"name": "x0", "type": "double"}, {"name": "x1", "type": "double"}, {"name": "x2", "type": "float"}, {"name": "x3", "type": "double"}]}`
	array := `{"type": "record", "name": "Vec", "namespace": "test", "fields": [
  {"name": "event_id", "type": "string"}, {"name": "x", "type": {"type": "array", "items": "float"}}]}`
	for _, tt := range []struct {
		model, schema, output string
		classes               string
	}{
		{"torch_softmax", columns, "probabilities", "[setosa versicolor virginica]"},
		{"torch_logits", array, "probabilities", "[low mid high]"},
		{"torch_fixed_batch1", array, "score", "[]"},
		{"torch_fixed_batch4", array, "probabilities", "[a b c]"},
	} {
		t.Run(tt.model, func(t *testing.T) {
			s := serve(t, tt.model, "vectors", tt.schema, pipeline.Config{})
			g := testmodels.Golden(t, tt.model)
			x := testmodels.Floats(t, g["features"])
			want := testmodels.Floats(t, g[tt.output])
			recs := make([]map[string]any, len(x))
			for i, r := range x {
				recs[i] = map[string]any{"event_id": "e" + strconv.Itoa(i),
					"x0": r[0], "x1": r[1], "x2": float32(r[2]), "x3": r[3],
					"x": []any{float32(r[0]), float32(r[1]), float32(r[2]), float32(r[3])}}
				if tt.model == "torch_softmax" {
					delete(recs[i], "x")
				} else {
					for _, f := range []string{"x0", "x1", "x2", "x3"} {
						delete(recs[i], f)
					}
				}
			}
			s.publish(t, recs)
			preds := s.predictions(t, len(recs))
			for i := range recs {
				key := "k" + strconv.Itoa(i)
				p := preds[key]
				if p["event_id"] != "e"+strconv.Itoa(i) {
					t.Fatalf("%s: event_id %v", key, p["event_id"])
				}
				if classes := fmt.Sprint(p["classes"]); classes != tt.classes {
					t.Fatalf("%s: classes %s, want %s", key, classes, tt.classes)
				}
				nearly(t, key+" scores", p["scores"].([]float32), want[i])
				outputs := p["outputs"].(map[string]any)
				if tt.model != "torch_logits" {
					if len(outputs) != 0 {
						t.Fatalf("%s: outputs %v, want none", key, outputs)
					}
					continue
				}
				emb, ok := outputs["embedding"].([]float32)
				if !ok || len(outputs) != 1 {
					t.Fatalf("%s: outputs %v, want the embedding", key, outputs)
				}
				nearly(t, key+" embedding", emb, testmodels.Floats(t, g["embedding"])[i])
			}
		})
	}
}

// Models with several inputs of several types: onnxruntime_go's multitype
// and several-inputs models (no batch dimension), and a string input beside
// a float one. The string model's events name their identity in fields of
// their own (pipeline.fields), with an RFC 3339 event time.
func TestExporterMultiInputEndToEnd(t *testing.T) {
	t.Run("example_multitype", func(t *testing.T) {
		s := serve(t, "example_multitype", "multi", `{"type": "record", "name": "M", "namespace": "test", "fields": [
  {"name": "a", "type": "int"}, {"name": "b", "type": {"type": "array", "items": "double"}}]}`, pipeline.Config{})
		recs := []map[string]any{
			{"a": int32(3), "b": []any{1.5, 200.0, -7.25, 1000.0}},
			{"a": int32(300), "b": []any{1.0, 2.0, 3.0, 4.0}}, // 300 is not a uint8: dead-lettered
			{"a": int32(255), "b": []any{0.0, 2.0, 4.0, 8.0}},
		}
		s.publish(t, recs)
		preds := s.predictions(t, 2)
		for _, i := range []int{0, 2} {
			p := preds["k"+strconv.Itoa(i)]
			a := float64(recs[i]["a"].(int32))
			if p["score"] != float32(a*1234) {
				t.Errorf("record %d: score %v, want OutputB = %v", i, p["score"], a*1234)
			}
			got := p["outputs"].(map[string]any)["OutputA"].([]float32)
			for k, b := range recs[i]["b"].([]any) {
				if want := float32(int16(b.(float64)*a - 512)); got[k] != want {
					t.Errorf("record %d: OutputA %v, want element %d = %v", i, got, k, want)
				}
			}
		}
		dl := s.env.Read("multi.dlq", 1, 30*time.Second, 100*time.Millisecond)
		if len(dl) != 1 || string(dl[0].Msg.Key) != "k1" || header(dl[0].Msg, "sluice.error.class") != "wrong_type" {
			t.Fatalf("dead letters %v, want k1 as wrong_type", dl)
		}
	})

	t.Run("example_several_inputs_and_outputs", func(t *testing.T) {
		s := serve(t, "example_several_inputs_and_outputs", "several", `{"type": "record", "name": "S", "namespace": "test", "fields": [
  {"name": "ints", "type": {"type": "array", "items": "int"}},
  {"name": "floats", "type": {"type": "array", "items": "float"}},
  {"name": "halves", "type": {"type": "array", "items": "float"}}]}`, pipeline.Config{})
		ints, floats := make([]any, 100), make([]any, 120)
		for i := range ints {
			ints[i] = int32(i*7 - 300)
		}
		for i := range floats {
			floats[i] = float32(i) / 8
		}
		halves := []any{float32(5.5), float32(1), float32(2), float32(3), float32(4), float32(5), float32(6), float32(7), float32(8)}
		s.publish(t, []map[string]any{{"ints": ints, "floats": floats, "halves": halves}})
		outputs := s.predictions(t, 1)["k0"]["outputs"].(map[string]any)
		out1, out2 := outputs["output 1"].([]float32), outputs["output 2"].([]float32)
		if len(out1) != 100 || len(out2) != 120 {
			t.Fatalf("outputs %d and %d values, want 100 and 120", len(out1), len(out2))
		}
		for i, v := range out1 {
			want := float32(i*7 - 300)
			if i == 0 {
				want += 5 // int64(input 3[0]) = int64(5.5)
			}
			if v != want {
				t.Fatalf("output 1[%d] = %v, want %v", i, v, want)
			}
		}
		for i, v := range out2 {
			if v != floats[i].(float32) {
				t.Fatalf("output 2[%d] = %v, want %v", i, v, floats[i])
			}
		}
	})

	t.Run("string_input", func(t *testing.T) {
		s := serve(t, "string_input", "cities", `{"type": "record", "name": "C", "namespace": "test", "fields": [
  {"name": "txn", "type": "long"}, {"name": "customer", "type": "string"}, {"name": "at", "type": "string"},
  {"name": "city", "type": "string"}, {"name": "amount", "type": ["null", "double"]}]}`,
			pipeline.Config{Fields: pipeline.Fields{EventID: "txn", EntityID: "customer", EventTime: "at"}})
		g := testmodels.Golden(t, "string_input")
		var cities []string
		var amounts []float64
		var labels []int
		for k, v := range map[string]any{"city": &cities, "amount": &amounts, "label": &labels} {
			if err := json.Unmarshal(g[k], v); err != nil {
				t.Fatal(err)
			}
		}
		probs := testmodels.Floats(t, g["probabilities"])
		at := time.Date(2026, 3, 1, 12, 30, 0, 250e6, time.UTC)
		recs := make([]map[string]any, len(cities))
		for i := range recs {
			recs[i] = map[string]any{"txn": int64(1000 + i), "customer": "c" + strconv.Itoa(i),
				"at": at.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano), "city": cities[i], "amount": amounts[i]}
		}
		s.publish(t, recs)
		preds := s.predictions(t, len(recs))
		for i := range recs {
			p := preds["k"+strconv.Itoa(i)]
			if want := []string{"keep", "flag"}[labels[i]]; predictedClass(p) != want {
				t.Errorf("record %d (%s): predicted_class %q, want %q", i, cities[i], predictedClass(p), want)
			}
			nearly(t, "scores", p["scores"].([]float32), probs[i])
			if p["event_id"] != strconv.Itoa(1000+i) || p["entity_id"] != "c"+strconv.Itoa(i) {
				t.Errorf("record %d: event_id %v entity_id %v, from txn and customer", i, p["event_id"], p["entity_id"])
			}
			if got := p["event_time"].(time.Time); !got.Equal(at.Add(time.Duration(i) * time.Second)) {
				t.Errorf("record %d: event_time %v, want %v", i, got, at.Add(time.Duration(i)*time.Second))
			}
		}
	})
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
