package inference

import (
	"errors"
	"fmt"
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
	et        etype // the element type of its input tensor
	base      int   // its first element: index into Row.num in elements of et, or into Row.str
	width     int   // tensor elements it fills
	impute    float64
	hasImpute bool
	vocab     map[string]int // categorical
	index     bool           // categorical: encoding index
	zero      bool           // categorical: unknown policy zero
}

// inPlan is one input tensor of a validated signature.
type inPlan struct {
	tensor string
	et     etype
	shape  Shape // as the signature gives it, or [N, width]
	width  int   // elements one event fills
	off    int   // where the event's part starts: a byte offset in Row.num, or an index in Row.str
}

// mapPlan is what Validate precomputes so MapRow does not allocate.
type mapPlan struct {
	inputSpecs  []InputSpec
	outputSpecs []OutputSpec
	cols        []colPlan // every column of every input, in order
	ins         []inPlan
	width       int  // elements one event fills, over every input
	numBytes    int  // bytes of Row.num
	strs        int  // length of Row.str
	float32Only bool // every input is float32: a row is width float32s
	batch       int  // the fixed batch size, or 0 for a dynamic one
	noBatch     bool // batch: none
	out         *outLayout
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSignature, fmt.Sprintf(format, args...))
}

// Validate checks the signature and precomputes what MapRow needs. Errors
// name the bad key, as in
// `input.columns[3].vocabulary: empty for categorical column "channel"`
// (or `inputs[0].columns[3]...` in the second form). Validate writes to
// s's unexported state only: call it before sharing s; once it returns nil,
// s is immutable and safe for concurrent use.
func (s *Signature) Validate() error {
	s.plan = nil
	legacyIn := s.Input.Tensor != "" || len(s.Input.Columns) > 0 || s.Input.Field != "" || s.Input.DType != "" || len(s.Input.Shape) > 0
	legacyOut := s.Output.Tensor != "" || s.Output.Kind != "" || len(s.Output.Classes) > 0
	switch {
	case (legacyIn || legacyOut) && (len(s.Inputs) > 0 || len(s.Outputs) > 0):
		return invalid("input/output and inputs/outputs: use one form (inputs and outputs for several tensors)")
	case s.Batch != "" && s.Batch != BatchNone:
		return invalid("batch: %q is not none (leave it out when the first dimension of each tensor is its batch dimension)", s.Batch)
	}
	inAt, outAt := func(i int) string { return fmt.Sprintf("inputs[%d]", i) }, func(i int) string { return fmt.Sprintf("outputs[%d]", i) }
	if s.legacy() {
		inAt, outAt = func(int) string { return "input" }, func(int) string { return "output" }
	} else {
		if len(s.Inputs) == 0 {
			return invalid("inputs: empty")
		}
		if len(s.Outputs) == 0 {
			return invalid("outputs: empty")
		}
	}
	p := &mapPlan{inputSpecs: s.inputs(), outputSpecs: s.outputs(), float32Only: true, batch: -1, noBatch: s.Batch == BatchNone}
	if err := p.planInputs(inAt); err != nil {
		return err
	}
	out, err := planOutputs(p, outAt)
	if err != nil {
		return err
	}
	p.out = out
	s.plan = p
	return nil
}

// planInputs checks every input and lays out its columns.
func (p *mapPlan) planInputs(inAt func(int) string) error {
	tensors := map[string]int{}
	fields := map[string]string{}
	for i, in := range p.inputSpecs {
		at := inAt(i)
		if in.Tensor == "" {
			return invalid("%s.tensor: empty", at)
		}
		if j, dup := tensors[in.Tensor]; dup {
			return invalid("%s.tensor: %q is also %s", at, in.Tensor, inAt(j))
		}
		tensors[in.Tensor] = i
		ip := inPlan{tensor: in.Tensor, et: etypeOf(in.DType)}
		if ip.et == eNone {
			return invalid("%s.dtype: unknown %q (%s)", at, in.DType, dtypeNames)
		}
		if ip.et != eFloat32 {
			p.float32Only = false
		}
		cols, err := inputColumns(at, in)
		if err != nil {
			return err
		}
		if err := p.planShape(at, in, &ip, cols); err != nil {
			return err
		}
		elem := 0
		for j, c := range cols {
			cat := fmt.Sprintf("%s.columns[%d]", at, j)
			if in.Field != "" {
				cat = at + ".field"
			}
			if prev, dup := fields[c.Field]; dup {
				return invalid("%s.field: %q already mapped by %s", cat, c.Field, prev)
			}
			fields[c.Field] = cat
			cp, err := planColumn(cat, c, ip.et)
			if err != nil {
				return err
			}
			if in.Field != "" {
				cp.width = ip.width // the field fills the event's whole part
			}
			cp.base = elem
			elem += cp.width
			p.cols = append(p.cols, cp)
		}
		if elem != ip.width {
			return invalid("%s.shape: %v holds %d elements per event, the columns fill %d", at, ip.shape, ip.width, elem)
		}
		// Place the input's part of the row.
		first := len(p.cols) - len(cols)
		if ip.et == eString {
			ip.off = p.strs
			p.strs += ip.width
		} else {
			size := ip.et.info().size
			p.numBytes = alignUp(p.numBytes, size)
			ip.off = p.numBytes
			p.numBytes += ip.width * size
		}
		for k := first; k < len(p.cols); k++ {
			if ip.et == eString {
				p.cols[k].base += ip.off
			} else {
				p.cols[k].base += ip.off / ip.et.info().size
			}
		}
		p.width += ip.width
		p.ins = append(p.ins, ip)
	}
	if p.batch < 0 {
		p.batch = 0
	}
	return nil
}

// alignUp rounds n up to a multiple of size, so that every input's part of
// Row.num can be read as elements of its type.
func alignUp(n, size int) int {
	if size <= 1 {
		return n
	}
	return (n + size - 1) / size * size
}

// inputColumns returns the columns that fill in: its own, or one array
// column for Field (its length set once the shape is known).
func inputColumns(at string, in InputSpec) ([]Column, error) {
	switch {
	case in.Field != "" && len(in.Columns) > 0:
		return nil, invalid("%s: field and columns: use one", at)
	case in.Field != "":
		if len(in.Shape) == 0 {
			return nil, invalid("%s.shape: needed with field %q (how many elements it fills)", at, in.Field)
		}
		kind := KindArray
		if in.DType == DTypeString {
			kind = KindString
		}
		return []Column{{Field: in.Field, Kind: kind, Impute: in.Impute}}, nil
	case in.Impute != nil:
		return nil, invalid("%s.impute: only an input filled from one field has one (the columns have their own)", at)
	case len(in.Columns) == 0:
		return nil, invalid("%s.columns: empty (or give field: an array field)", at)
	}
	return in.Columns, nil
}

// planShape checks in's shape (defaulting it to [N, width]) against the
// batch dimension of the inputs before it, and sets ip's shape and width.
func (p *mapPlan) planShape(at string, in InputSpec, ip *inPlan, cols []Column) error {
	shape := in.Shape
	if len(shape) == 0 {
		if p.noBatch {
			return invalid("%s.shape: needed under batch: none (the whole tensor's shape)", at)
		}
		w := 0
		for _, c := range cols {
			w += columnWidth(c)
		}
		shape = Shape{Dynamic, int64(w)}
	}
	for k, d := range shape.eventDims(p.noBatch) {
		if d < 0 {
			k0 := k + 1
			if p.noBatch {
				k0 = k
			}
			return invalid("%s.shape[%d]: symbolic, but only the batch dimension may be", at, k0)
		}
	}
	if !p.noBatch {
		if err := p.agreeBatch(at, shape[0]); err != nil {
			return err
		}
	}
	ip.shape = shape
	ip.width = shape.eventWidth(p.noBatch)
	if in.Field != "" {
		cols[0].Length = ip.width
		if ip.et == eString {
			cols[0].Length = 0
		}
	}
	return nil
}

// agreeBatch checks that the batch dimension d agrees with the ones seen.
func (p *mapPlan) agreeBatch(at string, d int64) error {
	b := 0
	if d > 0 {
		b = int(d)
	}
	if p.batch >= 0 && p.batch != b {
		return invalid("%s.shape[0]: batch dimension %s, but the tensors before it have %s (use batch: none for tensors without one)", at, batchName(b), batchName(p.batch))
	}
	p.batch = b
	return nil
}

func batchName(b int) string {
	if b == 0 {
		return "N"
	}
	return fmt.Sprint(b)
}

// columnWidth is the number of elements c fills, as planColumn finds it.
func columnWidth(c Column) int {
	switch {
	case c.Kind == KindArray:
		return c.Length
	case c.Kind == KindCategorical && c.Encoding != EncodingIndex:
		return len(c.Vocabulary)
	}
	return 1
}

func planColumn(at string, c Column, et etype) (colPlan, error) {
	cp := colPlan{field: c.Field, kind: c.Kind, et: et, width: 1}
	if c.Field == "" {
		return cp, invalid("%s.field: empty", at)
	}
	if c.Impute != nil {
		cp.impute, cp.hasImpute = *c.Impute, true
		if et != eString {
			if err := putFloat(c.Field, et, make([]byte, 8), 0, *c.Impute); err != nil {
				return cp, invalid("%s.impute: %s for column %q", at, err.Detail, c.Field)
			}
		}
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
	if (c.Kind == KindString) != (et == eString) {
		if et == eString {
			return cp, invalid("%s.kind: %s column %q in a string tensor (use kind: string)", at, c.Kind, c.Field)
		}
		return cp, invalid("%s.kind: string column %q in a %s tensor (use dtype: string)", at, c.Field, et.info().name)
	}
	switch c.Kind {
	case KindNumeric, KindBoolean:
	case KindString:
		if cp.hasImpute {
			return cp, invalid("%s.impute: not allowed for string column %q", at, c.Field)
		}
	case KindArray:
		if c.Length <= 0 {
			return cp, invalid("%s.length: must be > 0 for array column %q", at, c.Field)
		}
		cp.width = c.Length
	case KindCategorical:
		return planCategorical(at, c, cp)
	case "":
		return cp, invalid("%s.kind: empty for column %q (numeric|boolean|categorical|array|string)", at, c.Field)
	default:
		return cp, invalid("%s.kind: unknown kind %q for column %q (numeric|boolean|categorical|array|string)", at, c.Kind, c.Field)
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
		if cp.et == eBool || (cp.et.info().integer && cp.et.info().min == 0 && c.Unknown == UnknownZero) {
			return cp, invalid("%s.encoding: index with unknown: zero writes -1, which a %s tensor cannot hold (column %q)", at, cp.et.info().name, c.Field)
		}
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

// Width is the number of elements one event fills over all input tensors:
// for a signature whose inputs are float32 (every signature of the first
// form), the length of the row MapRow writes. It is safe for concurrent
// use.
func (s *Signature) Width() int {
	if s.plan != nil {
		return s.plan.width
	}
	w := 0
	for _, c := range s.Columns() {
		w += max(columnWidth(c), 0)
	}
	return w
}

// OutWidth is the number of float32 values the model's outputs give per
// event, as far as the signature alone says (Model.OutWidth is exact, once
// ZipMap classes and vector widths are read from the model): len(Classes)
// for probabilities, 1 for a score. It is safe for concurrent use.
func (s *Signature) OutWidth() int {
	if s.plan != nil {
		return s.plan.out.width
	}
	if s.Output.Kind == OutputProbabilities {
		return len(s.Output.Classes)
	}
	return 1
}

// Float32Only reports whether every input tensor is float32, so that a
// row is Width float32 values (MapRow, MapFields and Model.Infer take
// such rows). It is safe for concurrent use once the signature is
// validated.
func (s *Signature) Float32Only() bool {
	return s.plan != nil && s.plan.float32Only
}
