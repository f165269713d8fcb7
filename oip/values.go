package oip

import (
	"encoding/json"

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

// fill sets in's field on every record from its flattened values. JSON null
// is passed on as an absent value (the column imputes it, or the record is
// refused naming the field).
func fill(recs []map[string]any, in input, vals []any) error {
	c := in.col
	if c.Kind == inference.KindArray {
		for r, rec := range recs {
			row := make([]float64, c.Length)
			for j := range row {
				f, ok := vals[r*c.Length+j].(float64)
				if !ok {
					return badRequest("input %q, row %d, element %d: got %s, want a number", c.Field, r, j, jsonKind(vals[r*c.Length+j]))
				}
				row[j] = f
			}
			rec[c.Field] = row
		}
		return nil
	}
	for r, v := range vals {
		ok := v == nil
		switch v.(type) {
		case float64:
			ok = ok || c.Kind == inference.KindNumeric
		case bool:
			ok = ok || c.Kind == inference.KindBoolean
		case string:
			ok = ok || c.Kind == inference.KindCategorical
		}
		if !ok {
			return badRequest("input %q, row %d: got %s, want %s", c.Field, r, jsonKind(v), wantJSON(c))
		}
		recs[r][c.Field] = v
	}
	return nil
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

func wantJSON(c *inference.Column) string {
	switch c.Kind {
	case inference.KindBoolean:
		return "true or false"
	case inference.KindCategorical:
		return "a string"
	default:
		return "a number"
	}
}
