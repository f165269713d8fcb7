package inference

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/dlq"
)

// The second form's errors name the key in its lists, as
// inputs[1].columns[0].kind.
func TestValidateSecondForm(t *testing.T) {
	const in = "inputs:\n  - {tensor: x, columns: [{field: a, kind: numeric}]}\n"
	const out = "outputs:\n  - {tensor: y, kind: score}\n"
	tests := []struct {
		name, doc, want string
	}{
		{"both forms", "input: {tensor: x, columns: [{field: a, kind: numeric}]}\n" + out, "use one form"},
		{"no outputs", in, "outputs: empty"},
		{"no inputs", out, "inputs: empty"},
		{"bad batch", "batch: 4\n" + in + out, `batch: "4" is not none`},
		{"bad dtype", "inputs:\n  - {tensor: x, dtype: float8, columns: [{field: a, kind: numeric}]}\n" + out, `inputs[0].dtype: unknown "float8"`},
		{"same tensor twice", "inputs:\n  - {tensor: x, columns: [{field: a, kind: numeric}]}\n  - {tensor: x, columns: [{field: b, kind: numeric}]}\n" + out,
			`inputs[1].tensor: "x" is also inputs[0]`},
		{"field in two inputs", "inputs:\n  - {tensor: x, columns: [{field: a, kind: numeric}]}\n  - {tensor: z, columns: [{field: a, kind: numeric}]}\n" + out,
			`inputs[1].columns[0].field: "a" already mapped by inputs[0].columns[0]`},
		{"field and columns", "inputs:\n  - {tensor: x, field: e, shape: [N, 2], columns: [{field: a, kind: numeric}]}\n" + out, "inputs[0]: field and columns"},
		{"field without shape", "inputs:\n  - {tensor: x, field: e}\n" + out, `inputs[0].shape: needed with field "e"`},
		{"shape does not fit the columns", "inputs:\n  - {tensor: x, shape: [N, 3], columns: [{field: a, kind: numeric}]}\n" + out,
			"inputs[0].shape: [N 3] holds 3 elements per event, the columns fill 1"},
		{"symbolic event dimension", "inputs:\n  - {tensor: x, shape: [N, M], field: e}\n" + out, "inputs[0].shape[1]: symbolic"},
		{"batches disagree", "inputs:\n  - {tensor: x, shape: [N, 1], columns: [{field: a, kind: numeric}]}\n  - {tensor: z, shape: [4, 1], columns: [{field: b, kind: numeric}]}\n" + out,
			"inputs[1].shape[0]: batch dimension 4, but the tensors before it have N"},
		{"none without shape", "batch: none\n" + in + out, "inputs[0].shape: needed under batch: none"},
		{"string column in a float tensor", "inputs:\n  - {tensor: x, columns: [{field: a, kind: string}]}\n" + out, `inputs[0].columns[0].kind: string column "a" in a float32 tensor`},
		{"numeric column in a string tensor", "inputs:\n  - {tensor: x, dtype: string, columns: [{field: a, kind: numeric}]}\n" + out,
			`inputs[0].columns[0].kind: numeric column "a" in a string tensor`},
		{"impute out of range", "inputs:\n  - {tensor: x, dtype: uint8, columns: [{field: a, kind: numeric, impute: 300}]}\n" + out, "inputs[0].columns[0].impute: 300 is not a uint8"},
		{"index -1 in unsigned", "inputs:\n  - {tensor: x, dtype: uint8, columns: [{field: c, kind: categorical, vocabulary: [p], encoding: index, unknown: zero}]}\n" + out,
			"inputs[0].columns[0].encoding: index with unknown: zero writes -1"},
		{"logits without activation", in + "outputs:\n  - {tensor: y, kind: logits, classes: [a, b]}\n", `outputs[0].activation: empty for logits output "y"`},
		{"activation on probabilities", in + "outputs:\n  - {tensor: y, kind: probabilities, classes: [a, b], activation: softmax}\n", "outputs[0].activation: only logits outputs have one"},
		{"two classifiers", in + "outputs:\n  - {tensor: y, kind: zipmap}\n  - {tensor: z, kind: probabilities, classes: [a, b]}\n",
			"outputs[1].kind: probabilities, but outputs[0] already gives the class probabilities"},
		{"two labels", in + "outputs:\n  - {tensor: y, kind: label}\n  - {tensor: z, kind: label}\n", "outputs[1].kind: label, but outputs[0] already gives the label"},
		{"label classes beside a classifier", in + "outputs:\n  - {tensor: y, kind: label, classes: [a, b]}\n  - {tensor: z, kind: probabilities, classes: [a, b]}\n",
			"outputs[0].classes: a label output takes the classes of outputs[1]"},
		{"vector with classes", in + "outputs:\n  - {tensor: y, kind: vector, classes: [a]}\n", `outputs[0].classes: a vector output ("y") has no classes`},
		{"output named like an input", in + "outputs:\n  - {tensor: x, kind: score}\n", `outputs[0].tensor: "x" is also an input tensor`},
		{"two outputs of one tensor", in + "outputs:\n  - {tensor: y, kind: score}\n  - {tensor: y, kind: vector}\n", `outputs[1].tensor: "y" is also outputs[0]`},
		{"output batch disagrees", in + "outputs:\n  - {tensor: y, kind: vector, shape: [2, 3]}\n", "outputs[0].shape[0]: batch dimension 2"},
		{"bad kind", in + "outputs:\n  - {tensor: y, kind: text}\n", `outputs[0].kind: unknown kind "text"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSignature([]byte(tt.doc))
			if !errors.Is(err, ErrInvalidSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidSignature with %q", err, tt.want)
			}
		})
	}
}

func TestShapeYAML(t *testing.T) {
	var s struct{ Shape Shape }
	if err := yaml.Unmarshal([]byte("shape: [N, 4, batch_size, 1]"), &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Shape, Shape{Dynamic, 4, Dynamic, 1}) {
		t.Fatalf("shape %v", s.Shape)
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ Shape Shape }
	if err := yaml.Unmarshal(b, &back); err != nil || !slices.Equal(back.Shape, s.Shape) {
		t.Fatalf("marshalled %q reads back as %v, %v", b, back.Shape, err)
	}
	for _, bad := range []string{"shape: [0, 4]", "shape: [-2]", "shape: [4.5]", "shape: 4", "shape: [[1]]", "shape: [N-1]"} {
		if err := yaml.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// A signature of the second form, every input type: one row holds each
// input's elements in its tensor's type.
func TestMapRecordIntoTypedRow(t *testing.T) {
	sig, err := ParseSignature([]byte(`
inputs:
  - tensor: ids
    dtype: int64
    shape: [N, 3]
    field: tokens
  - tensor: words
    dtype: string
    shape: [N, 2]
    columns: [{field: city, kind: string}, {field: color, kind: string}]
  - tensor: flags
    dtype: bool
    columns: [{field: vip, kind: boolean}, {field: tier, kind: categorical, vocabulary: [a, b]}]
  - tensor: small
    dtype: int8
    columns: [{field: n, kind: numeric, impute: -3}, {field: c, kind: categorical, vocabulary: [x, y], encoding: index, unknown: zero}]
  - tensor: half
    dtype: float16
    columns: [{field: h, kind: numeric}]
  - tensor: brain
    dtype: bfloat16
    columns: [{field: b, kind: numeric}]
  - tensor: wide
    dtype: float64
    columns: [{field: d, kind: numeric}]
outputs:
  - {tensor: y, kind: score}
`))
	if err != nil {
		t.Fatal(err)
	}
	if sig.Float32Only() || sig.Width() != 3+2+3+2+1+1+1 {
		t.Fatalf("Float32Only %v, Width %d", sig.Float32Only(), sig.Width())
	}
	rec := map[string]any{"tokens": []any{int64(1) << 53, int32(-2), int64(3)}, "city": "oslo", "color": map[string]any{"string": "red"},
		"vip": true, "tier": "b", "n": nil, "c": "zzz", "h": 1.5, "b": float32(-2.5), "d": math.Pi}
	var r Row
	if err := sig.MapRecordInto(rec, &r); err != nil {
		t.Fatal(err)
	}
	p := sig.plan
	at := func(i int) []byte { return r.num[p.ins[i].off:] }
	if getInt(eInt64, at(0), 0) != 1<<53+0 || getInt(eInt64, at(0), 1) != -2 || getInt(eInt64, at(0), 2) != 3 {
		t.Errorf("int64 input: %v %v %v", getInt(eInt64, at(0), 0), getInt(eInt64, at(0), 1), getInt(eInt64, at(0), 2))
	}
	if !slices.Equal(r.str, []string{"oslo", "red"}) {
		t.Errorf("strings %v", r.str)
	}
	if b := at(2)[:3]; !slices.Equal(b, []byte{1, 0, 1}) {
		t.Errorf("bool input %v, want vip 1, tier one-hot [0 1]", b)
	}
	if int8(at(3)[0]) != -3 || int8(at(3)[1]) != -1 {
		t.Errorf("int8 input %v, want impute -3 and unknown index -1", at(3)[:2])
	}
	if getFloat(eFloat16, at(4), 0) != 1.5 || getFloat(eBFloat16, at(5), 0) != -2.5 || getFloat(eFloat64, at(6), 0) != math.Pi {
		t.Errorf("float16 %v bfloat16 %v float64 %v", getFloat(eFloat16, at(4), 0), getFloat(eBFloat16, at(5), 0), getFloat(eFloat64, at(6), 0))
	}
	// MapFieldsInto over the same record agrees byte for byte.
	var names []string
	var vals []any
	for k, v := range rec {
		names, vals = append(names, k), append(vals, v)
	}
	var r2 Row
	if err := sig.MapFieldsInto(vals, sig.Positions(names), &r2); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.num, r2.num) || !slices.Equal(r.str, r2.str) {
		t.Fatal("MapFieldsInto and MapRecordInto disagree")
	}
	// The float32 API refuses a signature it cannot serve.
	if err := sig.MapRow(rec, make([]float32, sig.Width())); !errors.Is(err, ErrNotFloat32) {
		t.Fatalf("MapRow: %v, want ErrNotFloat32", err)
	}

	bad := []struct {
		field string
		v     any
		class dlq.Class
	}{
		{"tokens", []any{1.5, int64(2), int64(3)}, dlq.WrongType},
		{"tokens", []any{int64(1), int64(2)}, dlq.BadLength},
		{"tokens", []float64{1, 2, math.Inf(1)}, dlq.NonFinite},
		{"city", int64(3), dlq.WrongType},
		{"city", nil, dlq.MissingField},
		{"n", int64(200), dlq.WrongType},
		{"h", 70000.0, dlq.NonFinite},
		{"d", math.NaN(), dlq.NonFinite},
	}
	for _, b := range bad {
		rec2 := map[string]any{}
		for k, v := range rec {
			rec2[k] = v
		}
		rec2[b.field] = b.v
		var me *MapError
		if err := sig.MapRecordInto(rec2, &r); !errors.As(err, &me) || me.Field != b.field || me.Class != b.class {
			t.Errorf("%s = %v: %v, want %s", b.field, b.v, err, b.class)
		}
	}
}

// A string input filled from one array field takes all its strings.
func TestMapStringArrayField(t *testing.T) {
	sig, err := ParseSignature([]byte("inputs:\n  - {tensor: w, dtype: string, shape: [N, 3], field: words}\noutputs:\n  - {tensor: y, kind: score}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var r Row
	if err := sig.MapRecordInto(map[string]any{"words": []any{"a", "b", map[string]any{"string": "c"}}}, &r); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.str, []string{"a", "b", "c"}) {
		t.Fatalf("strings %v", r.str)
	}
	var me *MapError
	if err := sig.MapRecordInto(map[string]any{"words": []any{"a", "b"}}, &r); !errors.As(err, &me) || me.Class != dlq.BadLength {
		t.Fatalf("two strings: %v, want bad_length", err)
	}
	if cols := sig.Columns(); len(cols) != 1 || cols[0].Kind != KindString {
		t.Fatalf("columns %+v", cols)
	}
}

// Arrays may come nested, in row-major order.
func TestMapNestedArray(t *testing.T) {
	sig, err := ParseSignature([]byte("inputs:\n  - {tensor: x, shape: [N, 2, 3], field: m}\noutputs:\n  - {tensor: y, kind: score}\n"))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, sig.Width())
	if err := sig.MapRow(map[string]any{"m": []any{[]any{1.0, 2.0, 3.0}, []any{int32(4), int64(5), float32(6)}}}, dst); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("row %v", dst)
	}
	var me *MapError
	if err := sig.MapRow(map[string]any{"m": []any{[]any{1.0, 2.0}, []any{3.0}}}, dst); !errors.As(err, &me) || me.Class != dlq.BadLength {
		t.Fatalf("3 elements: %v, want bad_length", err)
	}
}

func TestFloat16Conversions(t *testing.T) {
	for _, tt := range []struct {
		in   float32
		want float32
	}{
		{0, 0}, {1, 1}, {-2.5, -2.5}, {65504, 65504}, {0.1, 0.0999755859375},
		{6.103515625e-05, 6.103515625e-05},             // the smallest normal
		{5.960464477539063e-08, 5.960464477539063e-08}, // the smallest subnormal
		{1e-9, 0}, {2049, 2048}, {2051, 2052}, // ties to even
	} {
		if got := float16toFloat32(float16bits(tt.in)); got != tt.want {
			t.Errorf("float16(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want float32 }{{1, 1}, {-2.5, -2.5}, {3.14159, 3.140625}, {1.00390625, 1}} {
		if got := math.Float32frombits(uint32(bfloat16bits(tt.in)) << 16); got != tt.want {
			t.Errorf("bfloat16(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// The output kinds read as the README says: the predicted class's
// probability with more than two classes, the positive class's with two;
// logits through their activation; a label by value or by index.
func TestOutputKinds(t *testing.T) {
	l := &outLayout{classifier: 0, label: -1, score: -1}
	l.outs = []outPlan{{tensor: "z", kind: OutputLogits, act: ActivationSigmoid, classes: []string{"no", "yes"}, width: 2, et: eFloat32}}
	l.layOut()
	num := make([]byte, 4)
	putFloat("z", eFloat32, num, 0, 2)
	row := make([]float32, 2)
	activate(&l.outs[0], num, 0, 1, row)
	p := 1 / (1 + math.Exp(-2))
	if math.Abs(float64(row[1])-p) > 1e-7 || math.Abs(float64(row[0])-(1-p)) > 1e-7 {
		t.Fatalf("binary sigmoid %v, want [%v %v]", row, 1-p, p)
	}
	res := l.read(row)
	if res.Class != "yes" || res.Score != row[1] {
		t.Fatalf("read %+v", res)
	}

	three := &outLayout{classifier: 0, label: 1, score: -1}
	three.outs = []outPlan{
		{tensor: "p", kind: OutputProbabilities, classes: []string{"a", "b", "c"}, width: 3},
		{tensor: "l", kind: OutputLabel, width: 1, et: eInt64},
	}
	three.layOut()
	if err := three.resolveLabel(); err != nil {
		t.Fatal(err)
	}
	res = three.read([]float32{0.2, 0.5, 0.3, 2})
	if res.Class != "c" || res.ClassIndex != 2 || res.Score != 0.3 {
		t.Fatalf("label 2 by index: %+v, want class c with its probability", res)
	}
	res = three.read([]float32{0.2, 0.5, 0.3, -1})
	if res.Class != "b" || res.Score != 0.5 {
		t.Fatalf("label out of range: %+v, want the argmax b", res)
	}
}
