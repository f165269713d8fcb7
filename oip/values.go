package oip

import (
	"encoding/json"
	"strconv"

	"github.com/sluice-ml/sluice/inference"
)

// flatten decodes t's data, flat or nested in row-major order.
func flatten(t *inputTensor) ([]any, error) {
	if len(t.Data) == 0 {
		return nil, badRequest("input %q: no data", t.Name)
	}
	var v any
	if err := json.Unmarshal(t.Data, &v); err != nil {
		return nil, badRequest("input %q: data: %v", t.Name, err)
	}
	top, ok := v.([]any)
	if !ok {
		return nil, badRequest("input %q: data must be an array", t.Name)
	}
	out := make([]any, 0, len(top))
	var walk func([]any)
	walk = func(a []any) {
		for _, e := range a {
			if inner, ok := e.([]any); ok {
				walk(inner)
			} else {
				out = append(out, e)
			}
		}
	}
	walk(top)
	return out, nil
}

// fill sets f on every record from its flattened values. JSON null is
// passed on as an absent value (the column imputes it, or the record is
// refused naming the field).
func fill(recs []map[string]any, f field, vals []any) error {
	if f.array() {
		for r, rec := range recs {
			rec[f.name] = arrayRow(f, vals[r*f.width:(r+1)*f.width])
			if err, ok := rec[f.name].(error); ok {
				return badRequest("input %q, row %d, %v", f.name, r, err)
			}
		}
		return nil
	}
	for r, v := range vals {
		ok := v == nil
		switch v.(type) {
		case float64:
			ok = ok || f.kind == inference.KindNumeric
		case bool:
			ok = ok || f.kind == inference.KindBoolean
		case string:
			ok = ok || f.kind == inference.KindCategorical || f.kind == inference.KindString
		}
		if !ok {
			return badRequest("input %q, row %d: got %s, want %s", f.name, r, jsonKind(v), wantJSON(f))
		}
		recs[r][f.name] = v
	}
	return nil
}

// arrayRow is one row of an array field: numbers as []float64, strings as
// []any; an element of the wrong kind is returned as an error.
func arrayRow(f field, vals []any) any {
	if f.kind == inference.KindString {
		row := make([]any, len(vals))
		for j, v := range vals {
			s, ok := v.(string)
			if !ok {
				return elementError{j, jsonKind(v), "a string"}
			}
			row[j] = s
		}
		return row
	}
	row := make([]float64, len(vals))
	for j, v := range vals {
		x, ok := v.(float64)
		if !ok {
			return elementError{j, jsonKind(v), "a number"}
		}
		row[j] = x
	}
	return row
}

type elementError struct {
	i         int
	got, want string
}

func (e elementError) Error() string {
	return "element " + strconv.Itoa(e.i) + ": got " + e.got + ", want " + e.want
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	default:
		return "an object"
	}
}

func wantJSON(f field) string {
	switch f.kind {
	case inference.KindBoolean:
		return "true or false"
	case inference.KindCategorical, inference.KindString:
		return "a string"
	default:
		return "a number"
	}
}
