package oip

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-ml/sluice/inference"
)

// requestError is a request that does not fit the model; it is answered 400.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

// input is one request tensor matched to its field.
type input struct {
	t    *inputTensor
	f    field
	rows int64
}

// records turns the request's input tensors into one goavro-native record
// per row of the shared batch dimension. Inputs the request leaves out are
// absent from the records: a column with an impute value (or a categorical
// one that maps unknown values to zero) fills them in; any other input
// must be sent.
func records(sig *inference.Signature, tensors []inputTensor) ([]map[string]any, error) {
	fs := fields(sig)
	if len(tensors) == 0 {
		return nil, badRequest("no inputs: send one tensor per model input (see GET /v2/models/{name})")
	}
	ins := make([]input, 0, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		j := slices.IndexFunc(fs, func(f field) bool { return f.name == t.Name })
		if j < 0 {
			return nil, badRequest("unknown input %q; the model's inputs are %s", t.Name, fieldNames(fs))
		}
		if slices.ContainsFunc(ins, func(in input) bool { return in.t.Name == t.Name }) {
			return nil, badRequest("input %q is given twice", t.Name)
		}
		n, err := checkTensor(fs[j], t)
		if err != nil {
			return nil, err
		}
		ins = append(ins, input{t: t, f: fs[j], rows: n})
	}
	if err := sameRows(ins); err != nil {
		return nil, err
	}
	rows := ins[0].rows
	for _, f := range fs {
		if !f.optional && !slices.ContainsFunc(ins, func(in input) bool { return in.f.name == f.name }) {
			return nil, badRequest("missing input %q (%s, shape %v): only inputs with an impute value may be left out", f.name, f.datatype(), f.shape())
		}
	}
	vals := make([][]any, len(ins))
	for i, in := range ins {
		v, err := flatten(in.t)
		if err != nil {
			return nil, err
		}
		width := int64(in.f.width)
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
		if err := fill(recs, in.f, vals[i]); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// sameRows checks that every input has the same number of rows; when they
// do not, the error names each input with its count, the odd ones first.
func sameRows(ins []input) error {
	counts := map[int64][]string{}
	for _, in := range ins {
		counts[in.rows] = append(counts[in.rows], fmt.Sprintf("%q", in.t.Name))
	}
	if len(counts) < 2 {
		return nil
	}
	keys := make([]int64, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	// The odd ones out (fewest inputs) first; ties by row count.
	slices.SortFunc(keys, func(a, b int64) int {
		if d := len(counts[a]) - len(counts[b]); d != 0 {
			return d
		}
		return int(a - b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		names := counts[k]
		if len(names) == 1 {
			parts[i] = fmt.Sprintf("input %s has %d rows", names[0], k)
		} else {
			parts[i] = fmt.Sprintf("inputs %s have %d rows", strings.Join(names, ", "), k)
		}
	}
	return badRequest("%s: all inputs share the batch dimension", strings.Join(parts, "; "))
}

// checkTensor checks t's datatype and shape against f and returns its
// number of rows.
func checkTensor(f field, t *inputTensor) (int64, error) {
	ok := false
	switch f.kind {
	case inference.KindBoolean:
		ok = t.Datatype == typeBool
	case inference.KindCategorical, inference.KindString:
		ok = t.Datatype == typeBytes
	default:
		ok = numericTypes[t.Datatype]
	}
	if !ok {
		return 0, badRequest("input %q: datatype %q, want %s", t.Name, t.Datatype, wantType(f))
	}
	for _, d := range t.Shape {
		if d < 0 {
			return 0, badRequest("input %q: shape %v has a negative dimension", t.Name, t.Shape)
		}
	}
	if f.array() {
		if len(t.Shape) != 2 || t.Shape[1] != int64(f.width) {
			return 0, badRequest("input %q: shape %v, want [N, %d]", t.Name, t.Shape, f.width)
		}
		return t.Shape[0], nil
	}
	if len(t.Shape) == 1 || (len(t.Shape) == 2 && t.Shape[1] == 1) {
		return t.Shape[0], nil
	}
	return 0, badRequest("input %q: shape %v, want [N] (or [N, 1])", t.Name, t.Shape)
}

func wantType(f field) string {
	switch f.kind {
	case inference.KindBoolean, inference.KindCategorical, inference.KindString:
		return f.datatype()
	}
	return f.datatype() + " (or another numeric datatype)"
}
