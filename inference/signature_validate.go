package inference

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidSignature is wrapped by every error Validate returns.
var ErrInvalidSignature = errors.New("inference: invalid signature")

// ErrNotValidated is returned by MapRow on a Signature that Validate has not
// accepted.
var ErrNotValidated = errors.New("inference: signature not validated (call Validate first)")

// colPlan is one column of a validated signature, ready for MapRow.
type colPlan struct {
	field     string
	kind      ColumnKind
	off       int // first tensor column
	width     int // tensor columns it fills
	impute    float32
	hasImpute bool
	vocab     map[string]int // categorical
	index     bool           // categorical: encoding index
	zero      bool           // categorical: unknown policy zero
}

// mapPlan is what Validate precomputes so MapRow does not allocate.
type mapPlan struct {
	cols     []colPlan
	width    int
	outWidth int
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSignature, fmt.Sprintf(format, args...))
}

// Validate checks the signature and precomputes what MapRow needs. Errors
// name the bad field, as in
// `input.columns[3].vocabulary: empty for categorical column "channel"`.
// Validate writes to s: call it before sharing s; once it returns nil, s
// is immutable and safe for concurrent use.
func (s *Signature) Validate() error {
	s.plan = nil
	if s.Input.Tensor == "" {
		return invalid("input.tensor: empty")
	}
	if len(s.Input.Columns) == 0 {
		return invalid("input.columns: empty")
	}
	p := &mapPlan{cols: make([]colPlan, len(s.Input.Columns))}
	seen := make(map[string]int, len(s.Input.Columns))
	for i, c := range s.Input.Columns {
		at := fmt.Sprintf("input.columns[%d]", i)
		if c.Field == "" {
			return invalid("%s.field: empty", at)
		}
		if j, dup := seen[c.Field]; dup {
			return invalid("%s.field: %q already mapped by input.columns[%d]", at, c.Field, j)
		}
		seen[c.Field] = i
		cp, err := planColumn(at, c)
		if err != nil {
			return err
		}
		cp.off = p.width
		p.width += cp.width
		p.cols[i] = cp
	}
	w, err := s.Output.validate()
	if err != nil {
		return err
	}
	if s.Output.Tensor == s.Input.Tensor {
		return invalid("output.tensor: %q is also the input tensor", s.Output.Tensor)
	}
	p.outWidth = w
	s.plan = p
	return nil
}

func planColumn(at string, c Column) (colPlan, error) {
	cp := colPlan{field: c.Field, kind: c.Kind, width: 1}
	if c.Impute != nil {
		if math.IsNaN(*c.Impute) || math.IsInf(*c.Impute, 0) || math.Abs(*c.Impute) > math.MaxFloat32 {
			return cp, invalid("%s.impute: %v is not a finite float32 for column %q", at, *c.Impute, c.Field)
		}
		cp.impute, cp.hasImpute = float32(*c.Impute), true
	}
	if c.Kind != KindCategorical {
		switch {
		case len(c.Vocabulary) > 0:
			return cp, invalid("%s.vocabulary: only categorical columns have one (column %q is %s)", at, c.Field, c.Kind)
		case c.Encoding != "":
			return cp, invalid("%s.encoding: only categorical columns have one (column %q is %s)", at, c.Field, c.Kind)
		case c.Unknown != "":
			return cp, invalid("%s.unknown: only categorical columns have one (column %q is %s)", at, c.Field, c.Kind)
		}
	}
	if c.Kind != KindArray && c.Length != 0 {
		return cp, invalid("%s.length: only array columns have one (column %q is %s)", at, c.Field, c.Kind)
	}
	switch c.Kind {
	case KindNumeric, KindBoolean:
	case KindArray:
		if c.Length <= 0 {
			return cp, invalid("%s.length: must be > 0 for array column %q", at, c.Field)
		}
		cp.width = c.Length
	case KindCategorical:
		return planCategorical(at, c, cp)
	case "":
		return cp, invalid("%s.kind: empty for column %q (numeric|boolean|categorical|array)", at, c.Field)
	default:
		return cp, invalid("%s.kind: unknown kind %q for column %q (numeric|boolean|categorical|array)", at, c.Kind, c.Field)
	}
	return cp, nil
}

func planCategorical(at string, c Column, cp colPlan) (colPlan, error) {
	if cp.hasImpute {
		return cp, invalid("%s.impute: not allowed for categorical column %q (use unknown: zero)", at, c.Field)
	}
	if len(c.Vocabulary) == 0 {
		return cp, invalid("%s.vocabulary: empty for categorical column %q", at, c.Field)
	}
	cp.vocab = make(map[string]int, len(c.Vocabulary))
	for j, v := range c.Vocabulary {
		if k, dup := cp.vocab[v]; dup {
			return cp, invalid("%s.vocabulary[%d]: %q repeats vocabulary[%d] of column %q", at, j, v, k, c.Field)
		}
		cp.vocab[v] = j
	}
	switch c.Encoding {
	case "", EncodingOneHot:
		cp.width = len(c.Vocabulary)
	case EncodingIndex:
		cp.index = true
	default:
		return cp, invalid("%s.encoding: unknown encoding %q for column %q (onehot|index)", at, c.Encoding, c.Field)
	}
	switch c.Unknown {
	case "", UnknownError:
	case UnknownZero:
		cp.zero = true
	default:
		return cp, invalid("%s.unknown: unknown policy %q for column %q (error|zero)", at, c.Unknown, c.Field)
	}
	return cp, nil
}

func (o OutputSpec) validate() (int, error) {
	if o.Tensor == "" {
		return 0, invalid("output.tensor: empty")
	}
	switch o.Kind {
	case OutputProbabilities:
		if len(o.Classes) < 2 {
			return 0, invalid("output.classes: %d classes for probabilities output %q, need at least 2", len(o.Classes), o.Tensor)
		}
		seen := make(map[string]int, len(o.Classes))
		for i, c := range o.Classes {
			if c == "" {
				return 0, invalid("output.classes[%d]: empty", i)
			}
			if j, dup := seen[c]; dup {
				return 0, invalid("output.classes[%d]: %q repeats output.classes[%d]", i, c, j)
			}
			seen[c] = i
		}
		return len(o.Classes), nil
	case OutputScore:
		if len(o.Classes) > 0 {
			return 0, invalid("output.classes: a score output %q has no classes", o.Tensor)
		}
		return 1, nil
	case "":
		return 0, invalid("output.kind: empty (probabilities|score)")
	default:
		return 0, invalid("output.kind: unknown kind %q (probabilities|score)", o.Kind)
	}
}

// Width is the number of float32 columns one event fills in the input
// tensor. It is safe for concurrent use.
func (s *Signature) Width() int {
	if s.plan != nil {
		return s.plan.width
	}
	w := 0
	for _, c := range s.Input.Columns {
		switch {
		case c.Kind == KindArray:
			w += c.Length
		case c.Kind == KindCategorical && c.Encoding != EncodingIndex:
			w += len(c.Vocabulary)
		default:
			w++
		}
	}
	return w
}

// OutWidth is the number of float32 values the model writes per event:
// len(Classes) for probabilities, 1 for a score. It is safe for concurrent
// use.
func (s *Signature) OutWidth() int {
	if s.plan != nil {
		return s.plan.outWidth
	}
	if s.Output.Kind == OutputProbabilities {
		return len(s.Output.Classes)
	}
	return 1
}
