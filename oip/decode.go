package oip

import (
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/inference"
)

// requestError is a request that does not fit the model; it is answered 400.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

// input is one request tensor matched to its signature column.
type input struct {
	t   *inputTensor
	col *inference.Column
}

// records turns the request's input tensors into one goavro-native record
// per row of the shared batch dimension. Inputs the request leaves out are
// absent from the records: a column with an impute value (or a categorical
// one that maps unknown values to zero) fills them in; any other column
// must be sent.
func records(sig *inference.Signature, tensors []inputTensor) ([]map[string]any, error) {
	if len(tensors) == 0 {
		return nil, badRequest("no inputs: send one tensor per model input (see GET /v2/models/{name})")
	}
	ins := make([]input, 0, len(tensors))
	rows := int64(-1)
	for i := range tensors {
		t := &tensors[i]
		col := column(sig, t.Name)
		if col == nil {
			return nil, badRequest("unknown input %q; the model's inputs are %s", t.Name, inputList(sig))
		}
		for _, prev := range ins {
			if prev.t.Name == t.Name {
				return nil, badRequest("input %q is given twice", t.Name)
			}
		}
		n, err := checkTensor(col, t)
		if err != nil {
			return nil, err
		}
		if rows >= 0 && n != rows {
			return nil, badRequest("input %q has %d rows but input %q has %d: all inputs share the batch dimension", t.Name, n, ins[0].t.Name, rows)
		}
		rows = n
		ins = append(ins, input{t: t, col: col})
	}
	for i := range sig.Input.Columns {
		c := &sig.Input.Columns[i]
		if !optional(c) && !given(ins, c.Field) {
			return nil, badRequest("missing input %q (%s, shape %v): only inputs with an impute value may be left out", c.Field, inputDatatype(c), inputShape(c))
		}
	}
	vals := make([][]any, len(ins))
	for i, in := range ins {
		v, err := flatten(in.t)
		if err != nil {
			return nil, err
		}
		width := int64(1)
		if in.col.Kind == inference.KindArray {
			width = int64(in.col.Length)
		}
		if n := int64(len(v)); n%width != 0 || n/width != rows {
			return nil, badRequest("input %q: data has %d elements, shape %v wants %d per row for %d rows", in.t.Name, n, in.t.Shape, width, rows)
		}
		vals[i] = v
	}
	recs := make([]map[string]any, rows)
	for r := range recs {
		recs[r] = make(map[string]any, len(ins))
	}
	for i, in := range ins {
		if err := fill(recs, in, vals[i]); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

func column(sig *inference.Signature, name string) *inference.Column {
	for i := range sig.Input.Columns {
		if sig.Input.Columns[i].Field == name {
			return &sig.Input.Columns[i]
		}
	}
	return nil
}

func given(ins []input, field string) bool {
	for _, in := range ins {
		if in.col.Field == field {
			return true
		}
	}
	return false
}

// optional reports whether a request may leave column c out.
func optional(c *inference.Column) bool {
	return c.Impute != nil || (c.Kind == inference.KindCategorical && c.Unknown == inference.UnknownZero)
}

func inputList(sig *inference.Signature) string {
	names := make([]string, len(sig.Input.Columns))
	for i, c := range sig.Input.Columns {
		names[i] = c.Field
	}
	return strings.Join(names, ", ")
}

// checkTensor checks t's datatype and shape against col and returns its
// number of rows.
func checkTensor(col *inference.Column, t *inputTensor) (int64, error) {
	ok := false
	switch col.Kind {
	case inference.KindBoolean:
		ok = t.Datatype == typeBool
	case inference.KindCategorical:
		ok = t.Datatype == typeBytes
	default:
		ok = numericTypes[t.Datatype]
	}
	if !ok {
		return 0, badRequest("input %q: datatype %q, want %s", t.Name, t.Datatype, wantType(col))
	}
	for _, d := range t.Shape {
		if d < 0 {
			return 0, badRequest("input %q: shape %v has a negative dimension", t.Name, t.Shape)
		}
	}
	if col.Kind == inference.KindArray {
		if len(t.Shape) != 2 || t.Shape[1] != int64(col.Length) {
			return 0, badRequest("input %q: shape %v, want [N, %d]", t.Name, t.Shape, col.Length)
		}
		return t.Shape[0], nil
	}
	if len(t.Shape) == 1 || (len(t.Shape) == 2 && t.Shape[1] == 1) {
		return t.Shape[0], nil
	}
	return 0, badRequest("input %q: shape %v, want [N] (or [N, 1])", t.Name, t.Shape)
}

func wantType(col *inference.Column) string {
	switch col.Kind {
	case inference.KindBoolean, inference.KindCategorical:
		return inputDatatype(col)
	default:
		return "FP64 (or another numeric datatype)"
	}
}
