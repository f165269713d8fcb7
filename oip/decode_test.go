package oip

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/inference"
)

// arraySig has an array column and a score output, which the demo model
// does not.
func arraySig(t *testing.T) *inference.Signature {
	t.Helper()
	zero := 0.0
	sig := &inference.Signature{
		Input: inference.InputSpec{Tensor: "x", Columns: []inference.Column{
			{Field: "emb", Kind: inference.KindArray, Length: 3},
			{Field: "n", Kind: inference.KindNumeric, Impute: &zero},
			{Field: "ok", Kind: inference.KindBoolean},
		}},
		Output: inference.OutputSpec{Tensor: "y", Kind: inference.OutputScore},
	}
	if err := sig.Validate(); err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestMetadataOfArraysAndScores(t *testing.T) {
	md := (&served{name: "m", version: "4", sig: arraySig(t)}).metadata()
	want := []tensorMeta{
		{Name: "emb", Datatype: "FP32", Shape: []int64{-1, 3}},
		{Name: "n", Datatype: "FP32", Shape: []int64{-1}}, // the tensor's type, whatever the Avro field's
		{Name: "ok", Datatype: "BOOL", Shape: []int64{-1}},
	}
	if !reflect.DeepEqual(md.Inputs, want) {
		t.Fatalf("inputs %+v, want %+v", md.Inputs, want)
	}
	if len(md.Outputs) != 1 || md.Outputs[0].Name != "score" || !reflect.DeepEqual(md.Outputs[0].Shape, []int64{-1}) {
		t.Fatalf("outputs %+v, want score [-1]", md.Outputs)
	}
}

func TestRecords(t *testing.T) {
	sig := arraySig(t)
	in := func(name, dt string, shape []int64, data string) inputTensor {
		return inputTensor{Name: name, Datatype: dt, Shape: shape, Data: json.RawMessage(data)}
	}
	tests := []struct {
		name   string
		inputs []inputTensor
		want   []map[string]any
		err    string
	}{
		{"flat array rows, optional input left out", []inputTensor{
			in("emb", "FP32", []int64{2, 3}, `[1,2,3,4,5,6]`),
			in("ok", "BOOL", []int64{2}, `[true,false]`),
		}, []map[string]any{
			{"emb": []float64{1, 2, 3}, "ok": true},
			{"emb": []float64{4, 5, 6}, "ok": false},
		}, ""},
		{"nested rows, integer datatype, null imputes", []inputTensor{
			in("emb", "INT32", []int64{1, 3}, `[[7,8,9]]`),
			in("n", "FP64", []int64{1, 1}, `[[null]]`),
			in("ok", "BOOL", []int64{1}, `[true]`),
		}, []map[string]any{{"emb": []float64{7, 8, 9}, "n": nil, "ok": true}}, ""},
		{"array of the wrong length", []inputTensor{
			in("emb", "FP32", []int64{1, 2}, `[1,2]`), in("ok", "BOOL", []int64{1}, `[true]`),
		}, nil, `input "emb": shape [1 2], want [N, 3]`},
		{"null inside an array", []inputTensor{
			in("emb", "FP32", []int64{1, 3}, `[1,null,3]`), in("ok", "BOOL", []int64{1}, `[true]`),
		}, nil, `input "emb", row 0, element 1: got null, want a number`},
		{"negative dimension", []inputTensor{in("ok", "BOOL", []int64{-1}, `[]`)}, nil, `shape [-1] has a negative dimension`},
		{"data not an array", []inputTensor{in("emb", "FP32", []int64{1, 3}, `[1,2,3]`), in("ok", "BOOL", []int64{1}, `true`)}, nil, `input "ok": data must be an array`},
		{"no data", []inputTensor{in("emb", "FP32", []int64{1, 3}, `[1,2,3]`), in("ok", "BOOL", []int64{1}, ``)}, nil, `input "ok": no data`},
		{"huge claimed shape", []inputTensor{
			in("emb", "FP32", []int64{1 << 61, 3}, `[1,2,3]`), in("ok", "BOOL", []int64{1 << 61}, `[true]`),
		}, nil, `input "emb": data has 3 elements`},
		{"missing required input", []inputTensor{in("ok", "BOOL", []int64{1}, `[true]`)}, nil, `missing input "emb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := records(sig, tt.inputs)
			if tt.err != "" {
				var re *requestError
				if !errors.As(err, &re) || re.msg == "" || !strings.Contains(re.msg, tt.err) {
					t.Fatalf("error %v, want a request error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("records %v, want %v", got, tt.want)
			}
			row := make([]float32, sig.Width())
			for i, rec := range got {
				if err := sig.MapRow(rec, row); err != nil {
					t.Fatalf("record %d does not map: %v", i, err)
				}
			}
		})
	}
}

// multiSig has two inputs of other types than float32, one filled from an
// array field, a label and a vector output.
func multiSig(t *testing.T) *inference.Signature {
	t.Helper()
	sig, err := inference.ParseSignature([]byte(`
inputs:
  - tensor: ids
    dtype: int64
    shape: [N, 3]
    field: tokens
  - tensor: words
    dtype: string
    shape: [N, 2]
    columns: [{field: city, kind: string}, {field: color, kind: string}]
  - tensor: x
    dtype: float64
    columns: [{field: amount, kind: numeric}, {field: vip, kind: boolean}]
outputs:
  - {tensor: label, kind: label, classes: [no, yes]}
  - {tensor: emb, kind: vector, shape: [N, 2]}
`))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// Every input of a multi-input signature is described, with the datatype
// of its tensor, and accepted.
func TestMetadataAndRecordsOfSeveralInputs(t *testing.T) {
	sig := multiSig(t)
	m := &served{name: "m", version: "1", sig: sig, classes: []string{"no", "yes"},
		named: []inference.NamedOutput{{Name: "emb", Values: make([]float32, 2)}}}
	md := m.metadata()
	want := []tensorMeta{
		{Name: "tokens", Datatype: "INT64", Shape: []int64{-1, 3}},
		{Name: "city", Datatype: "BYTES", Shape: []int64{-1}},
		{Name: "color", Datatype: "BYTES", Shape: []int64{-1}},
		{Name: "amount", Datatype: "FP64", Shape: []int64{-1}},
		{Name: "vip", Datatype: "BOOL", Shape: []int64{-1}},
	}
	if !reflect.DeepEqual(md.Inputs, want) {
		t.Fatalf("inputs %+v, want %+v", md.Inputs, want)
	}
	wantOut := []tensorMeta{
		{Name: "predicted_class", Datatype: "BYTES", Shape: []int64{-1}},
		{Name: "emb", Datatype: "FP32", Shape: []int64{-1, 2}},
	}
	if !reflect.DeepEqual(md.Outputs, wantOut) {
		t.Fatalf("outputs %+v, want %+v", md.Outputs, wantOut)
	}
	in := func(name, dt string, shape []int64, data string) inputTensor {
		return inputTensor{Name: name, Datatype: dt, Shape: shape, Data: json.RawMessage(data)}
	}
	recs, err := records(sig, []inputTensor{
		in("tokens", "INT64", []int64{2, 3}, `[[1,2,3],[4,5,6]]`),
		in("city", "BYTES", []int64{2}, `["oslo","rome"]`),
		in("color", "BYTES", []int64{2, 1}, `[["red"],["blue"]]`),
		in("amount", "FP32", []int64{2}, `[1.5,2.5]`),
		in("vip", "BOOL", []int64{2}, `[true,false]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		var r inference.Row
		if err := sig.MapRecordInto(rec, &r); err != nil {
			t.Fatalf("record %d does not map: %v", i, err)
		}
	}
	if recs[1]["city"] != "rome" || !reflect.DeepEqual(recs[1]["tokens"], []float64{4, 5, 6}) {
		t.Fatalf("records %v", recs)
	}
	// A shape error names the input that is off, not the ones that agree.
	_, err = records(sig, []inputTensor{
		in("tokens", "INT64", []int64{2, 3}, `[[1,2,3],[4,5,6]]`),
		in("city", "BYTES", []int64{3}, `["oslo","rome","lima"]`),
		in("color", "BYTES", []int64{2}, `["red","blue"]`),
		in("amount", "FP32", []int64{2}, `[1.5,2.5]`),
		in("vip", "BOOL", []int64{2}, `[true,false]`),
	})
	if err == nil || !strings.HasPrefix(err.Error(), `input "city" has 3 rows; inputs "tokens", "color", "amount", "vip" have 2 rows`) {
		t.Fatalf("error %v, want it to blame city", err)
	}
}
