package pipeline_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/encoding/protowire"
	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/schemas"
)

// TestMoreBadInputIsDeadLettered covers the bad input of the fault list
// that TestBadInputIsDeadLetteredAndGoodInputPredicted does not: a length
// prefix claiming gigabytes, a feature of the wrong type, an unknown
// category under the signature's error policy, and ±Inf. Each one is
// dead-lettered with its class and its original bytes, counted by reason,
// and the good events around it are predicted.
func TestMoreBadInputIsDeadLettered(t *testing.T) {
	e := newEnv(t, 3)
	e.Sig = unknownCategoryIsError(t, e.Sig)
	w := e.startWorker(pipeline.Config{Group: "bad-input"})
	gen := demo.NewGenerator(5)
	encode := func(enc *schemas.Encoder, rec map[string]any) []byte {
		t.Helper()
		v, err := enc.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// A length prefix claiming 2 GiB for the first string (event_id),
	// followed by a few bytes.
	huge := schemas.AppendFrame(nil, e.Input.ID(), append(protowire.AppendVarint(nil, protowire.EncodeZigZag(1<<31)), "abc"...))

	// The schema with amount as a string.
	wrongEnc, err := schemas.NewEncoder(t.Context(), e.Client, "features-wrongtype-value", withFieldType(t, schemas.TransactionSchema(), "amount", "string"))
	if err != nil {
		t.Fatal(err)
	}
	wrongRec := gen.Next()
	wrongRec["amount"] = "12.50"

	unknownRec := gen.Next()
	unknownRec["channel"] = "carrier-pigeon"
	posInf, negInf := gen.Next(), gen.Next()
	posInf["amount"] = math.Inf(1)
	negInf["ip_risk_score"] = math.Inf(-1)

	bad := []struct {
		name, class string
		value       []byte
	}{
		{"length prefix claiming gigabytes", "decode", huge},
		{"wrong type", "wrong_type", encode(wrongEnc, wrongRec)},
		{"unknown category", "unknown_category", encode(e.Input, unknownRec)},
		{"+Inf", "non_finite", encode(e.Input, posInf)},
		{"-Inf", "non_finite", encode(e.Input, negInf)},
	}
	var msgs []kafka.Message
	var goodIDs []string
	for i, b := range bad {
		rec := gen.Next()
		goodIDs = append(goodIDs, rec["event_id"].(string))
		msgs = append(msgs,
			kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: encode(e.Input, rec)},
			kafka.Message{Key: []byte{byte('a' + i)}, Value: b.value, Headers: []kafka.Header{{Key: "case", Value: []byte(b.name)}}})
	}
	e.PublishRaw(msgs...)

	byCase := e.deadLettersByCase(len(bad))
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			d, found := byCase[b.name]
			if !found {
				t.Fatalf("no dead letter for %s", b.name)
			}
			info, err := consumers.ParseDeadLetter(d)
			if err != nil {
				t.Fatal(err)
			}
			if string(info.Class) != b.class || info.Message == "" {
				t.Errorf("class %q (%s), want %q", info.Class, info.Message, b.class)
			}
			if !bytes.Equal(d.Value, b.value) {
				t.Errorf("dead letter value differs from the original bytes")
			}
		})
	}
	preds := e.Read("predictions", len(goodIDs), 30*time.Second, 300*time.Millisecond)
	got := map[string]bool{}
	for _, p := range preds {
		got[p.Rec["event_id"].(string)] = true
	}
	for _, id := range goodIDs {
		if !got[id] {
			t.Errorf("good event %s next to the bad ones was not predicted", id)
		}
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"decode": 1, "wrong_type": 1, "unknown_category": 1, "non_finite": 2}
	for reason, n := range want {
		if v := testutil.ToFloat64(deadLetters(t, w.reg, reason)); v != n {
			t.Errorf("sluice_dead_letters_total{reason=%q} = %v, want %v", reason, v, n)
		}
	}
}

// unknownCategoryIsError returns sig with every categorical column set to
// reject values outside its vocabulary.
func unknownCategoryIsError(t *testing.T, sig *inference.Signature) *inference.Signature {
	t.Helper()
	b, err := yaml.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	var spec inference.Signature
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range spec.Input.Columns {
		if spec.Input.Columns[i].Kind == inference.KindCategorical {
			spec.Input.Columns[i].Unknown = inference.UnknownError
			found = true
		}
	}
	if !found {
		t.Fatal("the demo signature has no categorical column")
	}
	if b, err = yaml.Marshal(&spec); err != nil {
		t.Fatal(err)
	}
	out, err := inference.ParseSignature(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withFieldType returns the Avro record schema with one field's type
// replaced.
func withFieldType(t *testing.T, schema, field, typ string) string {
	t.Helper()
	return editSchema(t, schema, func(fields []any) []any {
		for _, f := range fields {
			if f := f.(map[string]any); f["name"] == field {
				f["type"] = typ
			}
		}
		return fields
	})
}

// withField returns the Avro record schema with one more field.
func withField(t *testing.T, schema string, field map[string]any) string {
	t.Helper()
	return editSchema(t, schema, func(fields []any) []any { return append(fields, field) })
}

func editSchema(t *testing.T, schema string, edit func(fields []any) []any) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(schema), &s); err != nil {
		t.Fatal(err)
	}
	s["fields"] = edit(s["fields"].([]any))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
