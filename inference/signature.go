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

// InputSpec names the model's input tensor (float32, shape [batch, width])
// and the columns that fill it, in order.
type InputSpec struct {
	Tensor  string   `yaml:"tensor"`
	Columns []Column `yaml:"columns"`
}

// OutputKind says how the model's output tensor is read.
type OutputKind string

// Output kinds.
const (
	// OutputProbabilities is a [batch, len(Classes)] tensor of class probabilities.
	OutputProbabilities OutputKind = "probabilities"
	// OutputScore is a [batch] or [batch, 1] regression score.
	OutputScore OutputKind = "score"
)

// OutputSpec names the output tensor and how to read it.
type OutputSpec struct {
	Tensor  string     `yaml:"tensor"`
	Kind    OutputKind `yaml:"kind"`
	Classes []string   `yaml:"classes,omitempty"`
}

// Signature is the contract between events and a model: which Avro fields
// become which tensor columns, and how outputs are read. It is stored beside
// the model as signature.yaml. A Signature is immutable once validated and
// safe for concurrent use.
type Signature struct {
	Input  InputSpec  `yaml:"input"`
	Output OutputSpec `yaml:"output"`

	plan *mapPlan // built by Validate; MapRow needs it
}
