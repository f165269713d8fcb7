package registry

import (
	"fmt"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sluice-ml/sluice/inference"
)

// Draft is a signature.yaml drafted from a model's inputs and outputs and
// the Avro record its events carry (DraftSignature). It is plain data.
type Draft struct {
	// YAML is the draft: a signature in the inputs/outputs form, each
	// guess explained by a "# NOTE:" line and each decision left open
	// marked by a "# TODO:" line.
	YAML []byte
	// Open lists the decisions the draft could not make, as its TODO
	// lines say them; a draft with none can be registered as it is.
	Open []string
	// Notes lists the guesses it made, as its NOTE lines say them.
	Notes []string
}

// DraftOptions names what a draft's header comment cites, and the fields
// that are not features.
type DraftOptions struct {
	// Model is the model's name; ModelFile and SchemaSource say where the
	// model and the schema came from ("subject iris-value, version 3").
	Model, ModelFile, SchemaSource string
	// NotFeatures are fields never fed to the model: the event id, entity
	// id and event time fields (default event_id, entity_id, event_time).
	// Fields of a timestamp or date type are never features either.
	NotFeatures []string
}

// DefaultNotFeatures are the fields pipeline.fields reads by default.
var DefaultNotFeatures = []string{"event_id", "entity_id", "event_time"}

// DraftSignature drafts the signature of an ONNX model (its bytes) whose
// events are records of the Avro schema (JSON text; "" when there is none
// yet, and every input is then a TODO). Inputs are matched to fields by
// name; otherwise the numeric fields, in schema order, fill the one input
// that takes as many elements per event, and array fields fill inputs one
// each where only one fits. Outputs get a kind from their type and shape:
// a sequence of maps is skl2onnx's zipmap, an int64 or string [N] a
// label, one number per event a score, C numbers per event probabilities
// (after a Softmax, or by name) or logits (by name), and the rest vectors.
// ONNX Runtime must be initialised (inference.InitRuntime). It is safe for
// concurrent use.
func DraftSignature(onnx []byte, schema string, opt DraftOptions) (*Draft, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(onnx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading its inputs and outputs: %v", ErrCorruptModel, err)
	}
	d := &drafter{opt: opt, ops: outputOps(onnx)}
	if schema != "" {
		if d.record, d.fields, err = recordFields(schema); err != nil {
			return nil, err
		}
	}
	if opt.NotFeatures == nil {
		opt.NotFeatures = DefaultNotFeatures
	}
	d.used = map[string]string{}
	for _, f := range d.fields {
		if slices.Contains(opt.NotFeatures, f.name) {
			d.used[f.name] = "pipeline.fields"
		} else if f.kind == fieldTime {
			d.used[f.name] = "a time"
		}
	}
	for _, in := range ins {
		d.ins = append(d.ins, &inputDraft{t: tensorOf(in)})
	}
	for _, out := range outs {
		d.outs = append(d.outs, &outputDraft{t: tensorOf(out)})
	}
	d.batch()
	d.fillInputs()
	d.readOutputs()
	return d.write(), nil
}

// draftTensor is one of the model's inputs or outputs.
type draftTensor struct {
	name  string
	value ort.ONNXType
	dtype inference.DType // "" for a type sluice does not read
	elem  string          // the element type as ONNX names it
	dims  []int64         // -1 for a symbolic dimension
}

func tensorOf(i ort.InputOutputInfo) draftTensor {
	t := draftTensor{name: i.Name, value: i.OrtValueType, dims: []int64(i.Dimensions)}
	t.elem = strings.ToLower(strings.TrimPrefix(i.DataType.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
	t.dtype = dtypes[i.DataType]
	return t
}

// dtypes names ONNX element types as a signature does.
var dtypes = map[ort.TensorElementDataType]inference.DType{
	ort.TensorElementDataTypeFloat: inference.DTypeFloat32, ort.TensorElementDataTypeDouble: inference.DTypeFloat64,
	ort.TensorElementDataTypeFloat16: inference.DTypeFloat16, ort.TensorElementDataTypeBFloat16: inference.DTypeBFloat16,
	ort.TensorElementDataTypeInt8: inference.DTypeInt8, ort.TensorElementDataTypeInt16: inference.DTypeInt16,
	ort.TensorElementDataTypeInt32: inference.DTypeInt32, ort.TensorElementDataTypeInt64: inference.DTypeInt64,
	ort.TensorElementDataTypeUint8: inference.DTypeUint8, ort.TensorElementDataTypeUint16: inference.DTypeUint16,
	ort.TensorElementDataTypeUint32: inference.DTypeUint32, ort.TensorElementDataTypeUint64: inference.DTypeUint64,
	ort.TensorElementDataTypeBool: inference.DTypeBool, ort.TensorElementDataTypeString: inference.DTypeString,
}

func (t draftTensor) tensor() bool { return t.value == ort.ONNXTypeTensor }

func (t draftTensor) float() bool {
	switch t.dtype {
	case inference.DTypeFloat32, inference.DTypeFloat64, inference.DTypeFloat16, inference.DTypeBFloat16:
		return true
	}
	return false
}

func (t draftTensor) integer() bool {
	return t.dtype != "" && !t.float() && t.dtype != inference.DTypeString && t.dtype != inference.DTypeBool
}

// describe writes the tensor as comments do: float32 [N 4].
func (t draftTensor) describe() string {
	if !t.tensor() {
		return strings.ToLower(strings.TrimPrefix(t.value.String(), "ONNX_TYPE_"))
	}
	elem := string(t.dtype)
	if elem == "" {
		elem = t.elem
	}
	return fmt.Sprintf("%s %v", elem, inference.Shape(t.dims))
}

// drafter holds one draft while it is made.
type drafter struct {
	opt    DraftOptions
	ops    map[string]string // output value → the operator that computes it
	record string
	fields []avroField
	used   map[string]string // field → what reads it (an input's name, or why it is not a feature)
	ins    []*inputDraft
	outs   []*outputDraft

	noBatch    bool
	fixed      int64 // the fixed batch size; 0 when it is symbolic (or there is none)
	batchNote  string
	batchTODO  string
	open, note []string
}

// batch decides what the first dimension of each tensor is: symbolic in
// every input (any batch size), one fixed size everywhere (a fixed batch),
// or neither (no batch dimension: batch: none).
func (d *drafter) batch() {
	var firsts []int64
	noDims := false
	for _, in := range d.ins {
		if len(in.t.dims) == 0 {
			noDims = true
			continue
		}
		firsts = append(firsts, in.t.dims[0])
	}
	for _, o := range d.outs {
		if o.t.tensor() && len(o.t.dims) == 0 {
			noDims = true
		}
	}
	dynamic := !noDims && len(firsts) > 0 && !slices.ContainsFunc(firsts, func(f int64) bool { return f >= 0 })
	if dynamic {
		for _, o := range d.outs {
			if o.t.tensor() && o.t.dims[0] >= 0 {
				d.batchTODO = fmt.Sprintf("output %q has a fixed first dimension (%s) where the inputs' is symbolic: which is the batch dimension?", o.t.name, o.t.describe())
			}
		}
		return
	}
	same := !noDims && len(firsts) > 0
	for _, f := range firsts {
		same = same && f == firsts[0] && f > 0
	}
	for _, o := range d.outs {
		if o.t.tensor() && same && o.t.dims[0] != firsts[0] && o.t.dims[0] >= 0 {
			same = false
		}
	}
	switch {
	case same:
		d.fixed = firsts[0]
		if d.fixed > 1 {
			d.batchNote = fmt.Sprintf("every tensor's first dimension is %d: read as a batch fixed at %d events (sluice runs batches of exactly %d, the last padded); if it is not a batch dimension, write batch: none and each input's whole shape", d.fixed, d.fixed, d.fixed)
		}
	default:
		d.noBatch = true
		if !noDims && slices.Contains(firsts, -1) {
			d.batchTODO = "some inputs have a symbolic first dimension and others a fixed one: which is the batch dimension?"
		} else {
			d.batchNote = "the tensors' first dimensions differ: read as a model without a batch dimension (one event per run)"
		}
	}
}

// eventDims are the dimensions of t that one event fills.
func (d *drafter) eventDims(t draftTensor) []int64 {
	if d.noBatch || len(t.dims) == 0 {
		return t.dims
	}
	return t.dims[1:]
}

// width is the number of elements one event fills in t, or -1 when a
// dimension of an event's part is symbolic.
func (d *drafter) width(t draftTensor) int {
	w := 1
	for _, x := range d.eventDims(t) {
		if x < 0 {
			return -1
		}
		w *= int(x)
	}
	return w
}

// shape is t's shape as the signature writes it.
func (d *drafter) shape(t draftTensor) inference.Shape {
	s := inference.Shape(slices.Clone(t.dims))
	if !d.noBatch && len(s) > 0 && d.fixed == 0 {
		s[0] = inference.Dynamic
	}
	return s
}

// norm is a name as matching compares it: letters and digits, lower case.
func norm(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r > 127:
			return r
		}
		return -1
	}, s)
}
