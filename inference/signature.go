package inference

// ColumnKind says how one Avro field becomes tensor columns.
type ColumnKind string

// The kinds of input column a Signature knows.
const (
	// KindNumeric is an int, long, float or double field: one column.
	KindNumeric ColumnKind = "numeric"
	// KindBoolean is a boolean field: one column, 1 for true and 0 for false.
	KindBoolean ColumnKind = "boolean"
	// KindCategorical is a string or enum field mapped through Vocabulary:
	// len(Vocabulary) columns one-hot, or one column holding the index.
	KindCategorical ColumnKind = "categorical"
	// KindArray is a fixed-length array of numbers: Length consecutive columns.
	KindArray ColumnKind = "array"
	// KindString is a string or enum field passed as it is: one column of a
	// string tensor.
	KindString ColumnKind = "string"
)

// Encoding is how a categorical column is written into the tensor.
type Encoding string

// Categorical encodings.
const (
	EncodingOneHot Encoding = "onehot"
	EncodingIndex  Encoding = "index"
)

// UnknownPolicy is what a categorical column does with a value that is not
// in its vocabulary.
type UnknownPolicy string

// Unknown-category policies.
const (
	// UnknownError rejects the record (it goes to the dead-letter topic).
	UnknownError UnknownPolicy = "error"
	// UnknownZero writes all-zero one-hot columns, or index -1.
	UnknownZero UnknownPolicy = "zero"
)

// Column maps one Avro field onto one or more consecutive tensor columns.
type Column struct {
	Field      string        `yaml:"field"`
	Kind       ColumnKind    `yaml:"kind"`
	Impute     *float64      `yaml:"impute,omitempty"`     // value used when the field is null or absent; without it, null is an error
	Vocabulary []string      `yaml:"vocabulary,omitempty"` // categorical only
	Encoding   Encoding      `yaml:"encoding,omitempty"`   // categorical only; default onehot
	Unknown    UnknownPolicy `yaml:"unknown,omitempty"`    // categorical only; default error
	Length     int           `yaml:"length,omitempty"`     // array only
}

// InputSpec names one of the model's input tensors and what fills it: the
// columns, in order, or one array field (Field) that fills every element
// of the event's part of the tensor.
type InputSpec struct {
	Tensor string `yaml:"tensor"`
	// DType is the tensor's element type; default float32.
	DType DType `yaml:"dtype,omitempty"`
	// Shape is the tensor's shape: its first dimension is the batch
	// dimension (N when the model takes any batch size, a number when it is
	// fixed), the others are one event's part, filled in row-major order.
	// Default [N, width]. Under batch: none the shape is the whole tensor.
	Shape Shape `yaml:"shape,omitempty"`
	// Columns fill the event's elements in order.
	Columns []Column `yaml:"columns,omitempty"`
	// Field is an array field that fills the event's elements instead of
	// Columns (flat, or nested in row-major order).
	Field string `yaml:"field,omitempty"`
	// Impute fills every element when Field is null or absent; without it,
	// null is an error.
	Impute *float64 `yaml:"impute,omitempty"`
}

// OutputKind says how the model's output tensor is read.
type OutputKind string

// Output kinds.
const (
	// OutputProbabilities is a [batch, len(Classes)] tensor of class probabilities.
	OutputProbabilities OutputKind = "probabilities"
	// OutputScore is a [batch] or [batch, 1] regression score.
	OutputScore OutputKind = "score"
	// OutputZipMap is skl2onnx's ZipMap: a sequence of one map per event
	// from class (int64 or string) to probability; the classes are its keys.
	OutputZipMap OutputKind = "zipmap"
	// OutputLabel is the predicted class per event, int64 or string [batch].
	OutputLabel OutputKind = "label"
	// OutputLogits is a [batch, len(Classes)] tensor (or [batch, 1] for a
	// binary sigmoid) of unnormalized scores, made probabilities by
	// Activation.
	OutputLogits OutputKind = "logits"
	// OutputVector is any [batch, k...] numeric tensor (an embedding,
	// several regression targets), carried under its name.
	OutputVector OutputKind = "vector"
)

// Activation turns logits into probabilities.
type Activation string

// Activations of a logits output.
const (
	// ActivationSoftmax makes the logits of one event sum to 1.
	ActivationSoftmax Activation = "softmax"
	// ActivationSigmoid maps each logit to (0, 1) on its own: one logit is
	// a binary classifier's positive class, several are independent labels.
	ActivationSigmoid Activation = "sigmoid"
)

// OutputSpec names one output tensor and how to read it.
type OutputSpec struct {
	Tensor  string     `yaml:"tensor"`
	Kind    OutputKind `yaml:"kind"`
	Classes []string   `yaml:"classes,omitempty"`
	// Activation is how logits become probabilities: softmax or sigmoid.
	Activation Activation `yaml:"activation,omitempty"`
	// Shape is the tensor's shape, as InputSpec.Shape; optional (the model
	// declares it), needed only where the model leaves an event's
	// dimensions symbolic.
	Shape Shape `yaml:"shape,omitempty"`
}

// BatchNone is the value of Signature.Batch for a model whose tensors have
// no batch dimension: it scores one event per run.
const BatchNone = "none"

// Signature is the contract between events and a model: which Avro fields
// become which input tensors' elements, and how outputs are read. It is
// stored beside the model as signature.yaml, in one of two forms: Input and
// Output (one float32 input, one output: the first form, still read), or
// Inputs and Outputs (any number of each). InputSpecs and OutputSpecs
// return either form as lists. A Signature is immutable once validated and
// safe for concurrent use.
type Signature struct {
	Input  InputSpec  `yaml:"input,omitempty"`
	Output OutputSpec `yaml:"output,omitempty"`

	// Batch is "none" for a model without a batch dimension; empty
	// otherwise (each tensor's first dimension is its batch dimension).
	Batch   string       `yaml:"batch,omitempty"`
	Inputs  []InputSpec  `yaml:"inputs,omitempty"`
	Outputs []OutputSpec `yaml:"outputs,omitempty"`

	plan *mapPlan // built by Validate; MapRow needs it
}

// Columns returns every column of every input, in order; an input filled
// from one array field counts as one array column of the event's width. It
// reads the signature as it is now (each call builds the list) and is safe
// for concurrent use.
func (s *Signature) Columns() []Column {
	var out []Column
	for _, in := range s.inputs() {
		if in.Field != "" {
			c := Column{Field: in.Field, Kind: KindArray, Impute: in.Impute, Length: in.Shape.eventWidth(s.Batch == BatchNone)}
			if in.DType == DTypeString {
				c.Kind, c.Length = KindString, 0
			}
			out = append(out, c)
			continue
		}
		out = append(out, in.Columns...)
	}
	return out
}

// InputSpecs returns the inputs of either form: Inputs, or the first
// form's Input. Callers must not modify them. It is safe for concurrent
// use.
func (s *Signature) InputSpecs() []InputSpec { return s.inputs() }

// OutputSpecs returns the outputs of either form: Outputs, or the first
// form's Output. Callers must not modify them. It is safe for concurrent
// use.
func (s *Signature) OutputSpecs() []OutputSpec { return s.outputs() }

// legacy reports whether the signature is in the first form.
func (s *Signature) legacy() bool {
	return len(s.Inputs) == 0 && len(s.Outputs) == 0
}

func (s *Signature) inputs() []InputSpec {
	if s.legacy() {
		return []InputSpec{s.Input}
	}
	return s.Inputs
}

func (s *Signature) outputs() []OutputSpec {
	if s.legacy() {
		return []OutputSpec{s.Output}
	}
	return s.Outputs
}
