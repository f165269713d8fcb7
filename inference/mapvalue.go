package inference

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/sluice-ml/sluice/dlq"
)

// mapValue writes the elements of one field's value: numeric ones into num
// (in c.et, from element c.base), strings into str.
func (c *colPlan) mapValue(v any, num []byte, str []string) error {
	v = unwrapUnion(v)
	var err *MapError
	switch c.kind {
	case KindNumeric:
		err = c.mapNumeric(v, num)
	case KindBoolean:
		err = c.mapBoolean(v, num)
	case KindCategorical:
		err = c.mapCategorical(v, num)
	case KindArray:
		err = c.mapArray(v, num)
	case KindString:
		err = c.mapString(v, str)
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

// putNumber writes the number v as element i of num.
func (c *colPlan) putNumber(v any, num []byte, i int) *MapError {
	switch x := v.(type) {
	case float64:
		if c.et == eFloat32 && x == x && x <= math.MaxFloat32 && x >= -math.MaxFloat32 { // finite: the common case, inline
			binary.NativeEndian.PutUint32(num[4*i:], math.Float32bits(float32(x)))
			return nil
		}
		return putFloat(c.field, c.et, num, i, x)
	case float32:
		if c.et == eFloat32 {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return mapErr(c.field, dlq.NonFinite, "%v is not a finite float32", x)
			}
			binary.NativeEndian.PutUint32(num[4*i:], math.Float32bits(x))
			return nil
		}
		return putFloat(c.field, c.et, num, i, float64(x))
	case int32:
		return putIntValue(c.field, c.et, num, i, int64(x))
	case int64:
		return putIntValue(c.field, c.et, num, i, x)
	case int:
		return putIntValue(c.field, c.et, num, i, int64(x))
	default:
		return mapErr(c.field, dlq.WrongType, "got %T, want a number", v)
	}
}

func (c *colPlan) missing(num []byte) *MapError {
	if !c.hasImpute {
		return mapErr(c.field, dlq.MissingField, "null or absent and the column has no impute value")
	}
	for i := range c.width {
		if err := putFloat(c.field, c.et, num, c.base+i, c.impute); err != nil {
			return err
		}
	}
	return nil
}

func (c *colPlan) mapNumeric(v any, num []byte) *MapError {
	if v == nil {
		return c.missing(num)
	}
	return c.putNumber(v, num, c.base)
}

func (c *colPlan) mapBoolean(v any, num []byte) *MapError {
	switch x := v.(type) {
	case nil:
		return c.missing(num)
	case bool:
		f := 0.0
		if x {
			f = 1
		}
		if c.et == eFloat32 {
			binary.NativeEndian.PutUint32(num[4*c.base:], math.Float32bits(float32(f)))
			return nil
		}
		return putFloat(c.field, c.et, num, c.base, f)
	default:
		return mapErr(c.field, dlq.WrongType, "got %T, want a boolean", v)
	}
}

func (c *colPlan) mapCategorical(v any, num []byte) *MapError {
	var idx int
	switch x := v.(type) {
	case string:
		j, ok := c.vocab[x]
		if !ok && !c.zero {
			return mapErr(c.field, dlq.UnknownCategory, "%q is not in the vocabulary", x)
		}
		idx = -1
		if ok {
			idx = j
		}
	case nil:
		// A null category is an unknown one: zero policy writes the unknown
		// encoding, error policy rejects the record.
		if !c.zero {
			return mapErr(c.field, dlq.MissingField, "null or absent categorical value")
		}
		idx = -1
	default:
		return mapErr(c.field, dlq.WrongType, "got %T, want a string or enum", v)
	}
	if c.index {
		return putFloat(c.field, c.et, num, c.base, float64(idx))
	}
	if c.et == eFloat32 {
		b := num[4*c.base : 4*(c.base+c.width)]
		clear(b)
		if idx >= 0 {
			binary.NativeEndian.PutUint32(b[4*idx:], math.Float32bits(1))
		}
		return nil
	}
	for i := range c.width {
		f := 0.0
		if i == idx {
			f = 1
		}
		if err := putFloat(c.field, c.et, num, c.base+i, f); err != nil {
			return err
		}
	}
	return nil
}

func (c *colPlan) mapString(v any, str []string) *MapError {
	switch x := v.(type) {
	case string:
		if c.width != 1 {
			return mapErr(c.field, dlq.WrongType, "got a string, want an array of %d strings", c.width)
		}
		str[c.base] = x
	case []any:
		if len(x) != c.width {
			return c.badLength(len(x))
		}
		for i, e := range x {
			s, ok := unwrapUnion(e).(string)
			if !ok {
				return mapErr(c.field, dlq.WrongType, "element %d: got %T, want a string", i, e)
			}
			str[c.base+i] = s
		}
	case nil:
		return mapErr(c.field, dlq.MissingField, "null or absent string")
	default:
		return mapErr(c.field, dlq.WrongType, "got %T, want a string or enum", v)
	}
	return nil
}

func (c *colPlan) mapArray(v any, num []byte) *MapError {
	switch x := v.(type) {
	case nil:
		return c.missing(num)
	case []float32:
		if len(x) != c.width {
			return c.badLength(len(x))
		}
		if c.et == eFloat32 {
			// The decoder's form of array<float>: no conversion, one
			// check per element and one copy (the row is native-endian
			// float32s, as x is).
			if !allFinite32(x) {
				for i, e := range x {
					if e-e != 0 { // NaN or ±Inf
						return mapErr(c.field, dlq.NonFinite, "element %d: %v is not finite", i, e)
					}
				}
			}
			copy(num[4*c.base:4*(c.base+c.width)], float32Bytes(x))
			return nil
		}
		for i, e := range x {
			if err := putFloat(c.field, c.et, num, c.base+i, float64(e)); err != nil {
				return element(err, i)
			}
		}
	case []float64:
		if len(x) != c.width {
			return c.badLength(len(x))
		}
		for i, e := range x {
			if err := putFloat(c.field, c.et, num, c.base+i, e); err != nil {
				return element(err, i)
			}
		}
	case []any:
		if n := countNested(x); n != c.width {
			return c.badLength(n)
		}
		if _, err := c.mapNested(x, num, 0); err != nil {
			return err
		}
	default:
		return mapErr(c.field, dlq.WrongType, "got %T, want an array of numbers", v)
	}
	return nil
}

// countNested counts the elements of x, flat or nested.
func countNested(x []any) int {
	n := 0
	for _, e := range x {
		if inner, ok := unwrapUnion(e).([]any); ok {
			n += countNested(inner)
		} else {
			n++
		}
	}
	return n
}

// mapNested writes the numbers of x, flat or nested in row-major order,
// from element at of the column (countNested has checked that they fit),
// and returns the element after the last.
func (c *colPlan) mapNested(x []any, num []byte, at int) (int, *MapError) {
	n := at
	for _, e := range x {
		e = unwrapUnion(e)
		switch inner := e.(type) {
		case []any:
			k, err := c.mapNested(inner, num, n)
			if err != nil {
				return 0, err
			}
			n = k
			continue
		case []float32, []float64:
			return 0, mapErr(c.field, dlq.WrongType, "element %d: nested %T, want numbers or arrays of them", n, e)
		}
		if err := c.putNumber(e, num, c.base+n); err != nil {
			return 0, element(err, n)
		}
		n++
	}
	return n, nil
}

func element(err *MapError, i int) *MapError {
	err.Detail = fmt.Sprintf("element %d: %s", i, err.Detail)
	return err
}

func (c *colPlan) badLength(n int) *MapError {
	return mapErr(c.field, dlq.BadLength, "%d elements, want %d", n, c.width)
}
