package inference

import (
	"fmt"
	"math"
)

// The classes of MapError. They are also dead-letter reasons.
const (
	ClassMissingField    = "missing_field"
	ClassWrongType       = "wrong_type"
	ClassNonFinite       = "non_finite"
	ClassUnknownCategory = "unknown_category"
	ClassBadLength       = "bad_length"
)

// MapError says why one record could not become a tensor row. The record
// is bad, not the system: callers dead-letter it under Class.
type MapError struct {
	Field  string // the record field that failed
	Class  string // one of the Class* constants
	Detail string // what was wrong, for people
}

// Error implements error.
func (e *MapError) Error() string {
	return fmt.Sprintf("field %q: %s: %s", e.Field, e.Class, e.Detail)
}

func mapErr(field, class, format string, args ...any) *MapError {
	return &MapError{Field: field, Class: class, Detail: fmt.Sprintf(format, args...)}
}

// MapRow writes the tensor row of one record into dst[:s.Width()].
// rec is a decoded Avro record (goavro native form: int32, int64, float32,
// float64, bool, string, []any, nil, and single-branch union maps such as
// {"double": 1.5}; int and []float32/[]float64 are accepted too). A record
// that does not fit returns a *MapError; dst is then partly written.
// MapRow does not allocate unless it fails. It is safe for concurrent use
// as long as each caller has its own dst.
func (s *Signature) MapRow(rec map[string]any, dst []float32) error {
	p := s.plan
	if p == nil {
		return ErrNotValidated
	}
	if len(dst) < p.width {
		return fmt.Errorf("inference: row buffer has %d columns, signature needs %d", len(dst), p.width)
	}
	for i := range p.cols {
		c := &p.cols[i]
		if err := c.mapValue(rec[c.field], dst[c.off:c.off+c.width]); err != nil {
			return err
		}
	}
	return nil
}

// Positions returns where each input field of the signature is in names
// (-1 where it is absent), for MapFields over records whose fields come in
// that order (a decoded record's schema order). Compute it once per schema.
func (s *Signature) Positions(names []string) []int {
	p := s.plan
	if p == nil {
		return nil
	}
	pos := make([]int, len(p.cols))
	for i := range p.cols {
		pos[i] = -1
		for j, name := range names {
			if name == p.cols[i].field {
				pos[i] = j
				break
			}
		}
	}
	return pos
}

// MapFields is MapRow for a record given as values in the order of the
// names that Positions turned into pos: the same checks and columns,
// without a map lookup per field.
func (s *Signature) MapFields(vals []any, pos []int, dst []float32) error {
	p := s.plan
	if p == nil {
		return ErrNotValidated
	}
	if len(dst) < p.width {
		return fmt.Errorf("inference: row buffer has %d columns, signature needs %d", len(dst), p.width)
	}
	if len(pos) != len(p.cols) {
		return fmt.Errorf("inference: %d positions for %d input fields (use Positions of this signature)", len(pos), len(p.cols))
	}
	for i := range p.cols {
		c := &p.cols[i]
		var v any
		if j := pos[i]; j >= 0 && j < len(vals) {
			v = vals[j]
		}
		if err := c.mapValue(v, dst[c.off:c.off+c.width]); err != nil {
			return err
		}
	}
	return nil
}

// mapValue writes the columns of one field's value into out.
func (c *colPlan) mapValue(v any, out []float32) error {
	v = unwrapUnion(v)
	var err *MapError
	switch c.kind {
	case KindNumeric:
		err = c.mapNumeric(v, out)
	case KindBoolean:
		err = c.mapBoolean(v, out)
	case KindCategorical:
		err = c.mapCategorical(v, out)
	case KindArray:
		err = c.mapArray(v, out)
	}
	if err != nil {
		return err
	}
	return nil
}

// unwrapUnion returns the value inside goavro's union form {"type": value}.
func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

// asFloat32 converts a number to float32, reporting what was wrong with it.
func asFloat32(field string, v any) (float32, *MapError) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int32:
		return float32(x), nil
	case int64:
		return float32(x), nil
	case int:
		return float32(x), nil
	default:
		return 0, mapErr(field, ClassWrongType, "got %T, want a number", v)
	}
	return finite32(field, f)
}

// finite32 narrows f to float32, rejecting NaN, ±Inf and overflow.
func finite32(field string, f float64) (float32, *MapError) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
		return 0, mapErr(field, ClassNonFinite, "%v is not a finite float32", f)
	}
	return float32(f), nil
}

func (c *colPlan) missing(out []float32) *MapError {
	if !c.hasImpute {
		return mapErr(c.field, ClassMissingField, "null or absent and the column has no impute value")
	}
	for i := range out {
		out[i] = c.impute
	}
	return nil
}

func (c *colPlan) mapNumeric(v any, out []float32) *MapError {
	if v == nil {
		return c.missing(out)
	}
	f, err := asFloat32(c.field, v)
	out[0] = f
	return err
}

func (c *colPlan) mapBoolean(v any, out []float32) *MapError {
	switch x := v.(type) {
	case nil:
		return c.missing(out)
	case bool:
		out[0] = 0
		if x {
			out[0] = 1
		}
		return nil
	default:
		return mapErr(c.field, ClassWrongType, "got %T, want a boolean", v)
	}
}

func (c *colPlan) mapCategorical(v any, out []float32) *MapError {
	var idx int
	switch x := v.(type) {
	case string:
		j, ok := c.vocab[x]
		if !ok && !c.zero {
			return mapErr(c.field, ClassUnknownCategory, "%q is not in the vocabulary", x)
		}
		idx = -1
		if ok {
			idx = j
		}
	case nil:
		// A null category is an unknown one: zero policy writes the unknown
		// encoding, error policy rejects the record.
		if !c.zero {
			return mapErr(c.field, ClassMissingField, "null or absent categorical value")
		}
		idx = -1
	default:
		return mapErr(c.field, ClassWrongType, "got %T, want a string or enum", v)
	}
	if c.index {
		out[0] = float32(idx)
		return nil
	}
	clear(out)
	if idx >= 0 {
		out[idx] = 1
	}
	return nil
}

func (c *colPlan) mapArray(v any, out []float32) *MapError {
	switch x := v.(type) {
	case nil:
		return c.missing(out)
	case []any:
		if len(x) != len(out) {
			return c.badLength(len(x))
		}
		for i, e := range x {
			f, err := asFloat32(c.field, unwrapUnion(e))
			if err != nil {
				err.Detail = fmt.Sprintf("element %d: %s", i, err.Detail)
				return err
			}
			out[i] = f
		}
	case []float64:
		if len(x) != len(out) {
			return c.badLength(len(x))
		}
		for i, e := range x {
			f, err := finite32(c.field, e)
			if err != nil {
				err.Detail = fmt.Sprintf("element %d: %s", i, err.Detail)
				return err
			}
			out[i] = f
		}
	case []float32:
		if len(x) != len(out) {
			return c.badLength(len(x))
		}
		for i, e := range x {
			if math.IsNaN(float64(e)) || math.IsInf(float64(e), 0) {
				return mapErr(c.field, ClassNonFinite, "element %d: %v is not finite", i, e)
			}
			out[i] = e
		}
	default:
		return mapErr(c.field, ClassWrongType, "got %T, want an array of numbers", v)
	}
	return nil
}

func (c *colPlan) badLength(n int) *MapError {
	return mapErr(c.field, ClassBadLength, "%d elements, want %d", n, c.width)
}
