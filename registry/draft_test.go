package registry_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/testmodels"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// Avro schemas of records the test models could be fed from.
const (
	irisSchema = `{"type": "record", "name": "Iris", "fields": [{"name": "event_id", "type": "string"},
  {"name": "sepal_length", "type": "float"}, {"name": "sepal_width", "type": "float"},
  {"name": "petal_length", "type": "double"}, {"name": "petal_width", "type": ["null", "double"]},
  {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}`
	fourSchema = `{"type": "record", "name": "Four", "fields": [{"name": "x0", "type": "float"},
  {"name": "x1", "type": "float"}, {"name": "x2", "type": "double"}, {"name": "x3", "type": "int"}]}`
	vecSchema = `{"type": "record", "name": "Vec", "fields": [{"name": "entity_id", "type": "string"},
  {"name": "x", "type": {"type": "array", "items": "float"}}]}`
	cityAmountSchema = `{"type": "record", "name": "Payment", "fields": [{"name": "amount", "type": "double"},
  {"name": "city", "type": "string"}]}`
	multitypeSchema = `{"type": "record", "name": "Multi", "fields": [{"name": "a", "type": "int"},
  {"name": "b", "type": {"type": "array", "items": {"type": "array", "items": "double"}}}]}`
	severalByName = `{"type": "record", "name": "Several", "fields": [
  {"name": "input_3", "type": {"type": "array", "items": "float"}},
  {"name": "input_1", "type": {"type": "array", "items": "int"}},
  {"name": "Input2", "type": {"type": "array", "items": "float"}}]}`
	severalUnnamed = `{"type": "record", "name": "Several", "fields": [
  {"name": "ints", "type": {"type": "array", "items": "int"}},
  {"name": "floats", "type": {"type": "array", "items": "float"}},
  {"name": "halves", "type": {"type": "array", "items": "float"}}]}`
)

// Each model the model-shape tests serve, drafted from a record that
// fits it, gives a signature with nothing left open that loads with the
// model and reads its tensors as the hand-written fixture does.
func TestDraftSignatureOfRealModels(t *testing.T) {
	needRuntime(t)
	for _, tt := range []struct {
		model, schema string
		// fields the draft feeds, per input, where they differ from the
		// fixture's (whose records name fields differently)
		fields map[string][]string
		notes  []string
	}{
		{model: "sklearn_randomforest", schema: irisSchema,
			notes: []string{"ZipMap", "petal_width is nullable", "4 numeric fields in schema order"}},
		{model: "torch_softmax", schema: fourSchema, notes: []string{"computed by a Softmax", "named 0 to 2"}},
		{model: "torch_logits", schema: vecSchema, notes: []string{"logits by its name"}},
		{model: "torch_fixed_batch1", schema: vecSchema},
		{model: "torch_fixed_batch4", schema: vecSchema, notes: []string{"batch fixed at 4 events"}},
		{model: "string_input", schema: cityAmountSchema},
		{model: "example_multitype", schema: multitypeSchema},
		{model: "example_several_inputs_and_outputs", schema: severalByName,
			fields: map[string][]string{"input 1": {"input_1"}, "input 2": {"Input2"}, "input 3": {"input_3"}},
			notes:  []string{"first dimensions differ"}},
	} {
		t.Run(tt.model, func(t *testing.T) {
			onnx, fixtureYAML := testmodels.Model(t, tt.model)
			d, err := registry.DraftSignature(onnx, tt.schema, registry.DraftOptions{Model: tt.model})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("draft:\n%s", d.YAML)
			if len(d.Open) > 0 {
				t.Fatalf("left open: %q", d.Open)
			}
			for _, n := range tt.notes {
				if !slices.ContainsFunc(d.Notes, func(s string) bool { return strings.Contains(s, n) }) {
					t.Errorf("no note says %q: %q", n, d.Notes)
				}
			}
			sig, err := inference.ParseSignature(d.YAML)
			if err != nil {
				t.Fatalf("the draft does not parse: %v", err)
			}
			m, err := inference.LoadModel(tt.model, "1", onnx, sig, inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1}, nil)
			if err != nil {
				t.Fatalf("the draft does not load with the model: %v", err)
			}
			defer m.Close()
			fixture, err := inference.ParseSignature(fixtureYAML)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := inputsOf(sig, nil), inputsOf(fixture, tt.fields); got != want {
				t.Errorf("inputs\n got %s\nwant %s", got, want)
			}
			if got, want := outputsOf(sig), outputsOf(fixture); got != want {
				t.Errorf("outputs\n got %s\nwant %s", got, want)
			}
		})
	}
}

// inputsOf writes a signature's inputs for comparison: tensor, type,
// shape (the batch dimension as N) and the fields that fill it, renamed
// by rename[tensor] where given.
func inputsOf(s *inference.Signature, rename map[string][]string) string {
	var b strings.Builder
	for _, in := range s.InputSpecs() {
		dt := in.DType
		if dt == "" {
			dt = inference.DTypeFloat32
		}
		var fields []string
		if in.Field != "" {
			fields = []string{"array " + in.Field}
		}
		for _, c := range in.Columns {
			fields = append(fields, string(c.Kind)+" "+c.Field)
		}
		if r, ok := rename[in.Tensor]; ok {
			fields = r
			if in.Field != "" {
				fields = []string{"array " + r[0]}
			}
		}
		fmt.Fprintf(&b, "%s %s %s %v; ", in.Tensor, dt, in.Shape.YAML(), fields)
	}
	return b.String()
}

// outputsOf writes a signature's outputs for comparison, without class
// names (a model does not carry them).
func outputsOf(s *inference.Signature) string {
	var b strings.Builder
	for _, o := range s.OutputSpecs() {
		fmt.Fprintf(&b, "%s %s %s %d classes; ", o.Tensor, o.Kind, o.Activation, len(o.Classes))
	}
	return b.String()
}

// mlpONNX is a one-layer model from in to out numbers, with an output
// function (training.OutputSoftmax, OutputSigmoid or OutputNone), its input
// named x and its output named output.
func mlpONNX(t *testing.T, in, out int, fn, output string) []byte {
	t.Helper()
	w := make([][]float32, out)
	for i := range w {
		w[i] = make([]float32, in)
		w[i][i%in] = 1
	}
	b, err := training.WriteONNX(&training.MLP{Layers: []training.Dense{{W: w, B: make([]float32, out)}}, Output: fn}, "x", output)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What the draft cannot decide is a TODO line in the YAML, in Open, that
// names the candidates; what it decides is written so that it loads.
func TestDraftSignatureLeavesChoicesOpen(t *testing.T) {
	needRuntime(t)
	several, _ := testmodels.Model(t, "example_several_inputs_and_outputs")
	iris, _ := testmodels.Model(t, "sklearn_randomforest")
	for _, tt := range []struct {
		name   string
		onnx   []byte
		schema string
		open   []string // each a substring of one Open entry, in order
		yaml   []string // substrings of the YAML
		loads  bool     // the draft loads with the model
	}{
		{name: "two arrays fit two inputs", onnx: several, schema: severalUnnamed,
			open: []string{`input "input 2" (float32, 120 elements per event)? candidates: floats (array), halves (array)`,
				`input "input 3" (bfloat16, 9 elements per event)? candidates: floats (array), halves (array)`},
			yaml: []string{"field: ints", "# TODO: which fields fill input \"input 2\"", "columns: []"}},
		{name: "five numbers for four elements", onnx: iris,
			schema: `{"type": "record", "name": "Iris5", "fields": [{"name": "a", "type": "float"}, {"name": "b", "type": "float"},
  {"name": "c", "type": "float"}, {"name": "d", "type": "long"}, {"name": "e", "type": "boolean"}, {"name": "f", "type": "string"}]}`,
			open: []string{`input "X" (float32, 4 elements per event)? candidates: a, b, c, d, e, f (categorical: needs a vocabulary)`}},
		{name: "no schema", onnx: iris, open: []string{`input "X" (float32, 4 elements per event)? (no input schema was given)`},
			yaml: []string{"from - and no input schema"}},
		{name: "the demo model needs the channel's vocabulary", onnx: demoONNX(t, 1, 0), schema: schemas.TransactionSchema(),
			open: []string{`input "features" (float32, 26 elements per event)? candidates: amount, amount_zscore_30d`},
			yaml: []string{"card_present, channel (categorical: needs a vocabulary), customer_income\n"}},
		{name: "an unnamed Gemm output", onnx: mlpONNX(t, 4, 3, training.OutputNone, "output"), schema: fourSchema,
			open: []string{`output "output" (float32 [N 3], computed by Gemm): class logits or a vector? drafted as a vector`},
			yaml: []string{"kind: vector"}, loads: true},
		{name: "a Sigmoid output", onnx: mlpONNX(t, 4, 3, training.OutputSigmoid, "output"), schema: fourSchema,
			yaml: []string{"kind: probabilities", `classes: ["0", "1", "2"]`, "computed by a Sigmoid"}, loads: true},
		{name: "an enum one-hot beside numbers", onnx: mlpONNX(t, 5, 2, training.OutputSoftmax, "y"),
			schema: `{"type": "record", "name": "Shop", "fields": [{"name": "price", "type": "double"},
  {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["red", "green", "blue"]}}, {"name": "qty", "type": "int"}]}`,
			yaml:  []string{"- {field: price, kind: numeric}", "- {field: colour, kind: categorical, vocabulary: [red, green, blue]}", "- {field: qty, kind: numeric}"},
			loads: true},
		{name: "a field named after the input", onnx: mlpONNX(t, 4, 2, training.OutputSoftmax, "probabilities"),
			schema: `{"type": "record", "name": "R", "fields": [{"name": "a", "type": "double"}, {"name": "X", "type": {"type": "array", "items": "double"}}]}`,
			yaml:   []string{"field: X", "Fields this draft does not read: a."}, loads: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := registry.DraftSignature(tt.onnx, tt.schema, registry.DraftOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("draft:\n%s", d.YAML)
			if len(d.Open) != len(tt.open) {
				t.Fatalf("open: %q, want %d", d.Open, len(tt.open))
			}
			for i, want := range tt.open {
				if !strings.Contains(d.Open[i], want) || !strings.Contains(string(d.YAML), "# TODO: "+d.Open[i]+"\n") {
					t.Errorf("open[%d] = %q, want it to contain %q, and a TODO line", i, d.Open[i], want)
				}
			}
			for _, want := range tt.yaml {
				if !strings.Contains(string(d.YAML), want) {
					t.Errorf("the draft lacks %q", want)
				}
			}
			sig, err := inference.ParseSignature(d.YAML)
			if !tt.loads {
				return
			}
			if err == nil {
				var m *inference.Model
				if m, err = inference.LoadModel("m", "1", tt.onnx, sig, inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1}, nil); err == nil {
					m.Close()
				}
			}
			if err != nil {
				t.Fatalf("the draft does not load: %v", err)
			}
		})
	}
	if _, err := registry.DraftSignature([]byte("not a model"), irisSchema, registry.DraftOptions{}); err == nil || !strings.Contains(err.Error(), "does not load") {
		t.Fatalf("a file that is not ONNX: %v", err)
	}
	if _, err := registry.DraftSignature(iris, `{"type": "enum", "name": "E", "symbols": ["a"]}`, registry.DraftOptions{}); err == nil || !strings.Contains(err.Error(), "want record") {
		t.Fatalf("a schema that is not a record: %v", err)
	}
}
