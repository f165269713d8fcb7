package inference

import (
	"encoding/binary"
	"math"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sluice-ml/sluice/dlq"
)

// DType is the element type of a model's input or output tensor, as a
// signature names it.
type DType string

// The element types a signature can name. Numeric inputs are written into
// the tensor in their own type (an int64 input receives the exact int64 of
// a long field); outputs of any numeric type are read as float32.
const (
	DTypeFloat32  DType = "float32"
	DTypeFloat64  DType = "float64"
	DTypeFloat16  DType = "float16"
	DTypeBFloat16 DType = "bfloat16"
	DTypeInt8     DType = "int8"
	DTypeInt16    DType = "int16"
	DTypeInt32    DType = "int32"
	DTypeInt64    DType = "int64"
	DTypeUint8    DType = "uint8"
	DTypeUint16   DType = "uint16"
	DTypeUint32   DType = "uint32"
	DTypeUint64   DType = "uint64"
	DTypeBool     DType = "bool"
	DTypeString   DType = "string"
)

// etype is a DType as the mapping and the sessions switch on it.
type etype uint8

const (
	eNone etype = iota
	eFloat32
	eFloat64
	eFloat16
	eBFloat16
	eInt8
	eInt16
	eInt32
	eInt64
	eUint8
	eUint16
	eUint32
	eUint64
	eBool
	eString
)

// etypeInfo is what the mapping and the sessions need to know of a type.
type etypeInfo struct {
	name     DType
	size     int // bytes per element; 0 for string
	ort      ort.TensorElementDataType
	integer  bool
	min, max float64 // integer range
}

var etypes = [...]etypeInfo{
	eFloat32:  {name: DTypeFloat32, size: 4, ort: ort.TensorElementDataTypeFloat},
	eFloat64:  {name: DTypeFloat64, size: 8, ort: ort.TensorElementDataTypeDouble},
	eFloat16:  {name: DTypeFloat16, size: 2, ort: ort.TensorElementDataTypeFloat16},
	eBFloat16: {name: DTypeBFloat16, size: 2, ort: ort.TensorElementDataTypeBFloat16},
	eInt8:     {name: DTypeInt8, size: 1, ort: ort.TensorElementDataTypeInt8, integer: true, min: math.MinInt8, max: math.MaxInt8},
	eInt16:    {name: DTypeInt16, size: 2, ort: ort.TensorElementDataTypeInt16, integer: true, min: math.MinInt16, max: math.MaxInt16},
	eInt32:    {name: DTypeInt32, size: 4, ort: ort.TensorElementDataTypeInt32, integer: true, min: math.MinInt32, max: math.MaxInt32},
	eInt64:    {name: DTypeInt64, size: 8, ort: ort.TensorElementDataTypeInt64, integer: true, min: math.MinInt64, max: math.MaxInt64},
	eUint8:    {name: DTypeUint8, size: 1, ort: ort.TensorElementDataTypeUint8, integer: true, min: 0, max: math.MaxUint8},
	eUint16:   {name: DTypeUint16, size: 2, ort: ort.TensorElementDataTypeUint16, integer: true, min: 0, max: math.MaxUint16},
	eUint32:   {name: DTypeUint32, size: 4, ort: ort.TensorElementDataTypeUint32, integer: true, min: 0, max: math.MaxUint32},
	eUint64:   {name: DTypeUint64, size: 8, ort: ort.TensorElementDataTypeUint64, integer: true, min: 0, max: math.MaxUint64},
	eBool:     {name: DTypeBool, size: 1, ort: ort.TensorElementDataTypeBool},
	eString:   {name: DTypeString, ort: ort.TensorElementDataTypeString},
}

func (t etype) info() *etypeInfo { return &etypes[t] }

// etypeOf returns the etype of a signature's DType ("" is float32), or
// eNone for a name it does not know.
func etypeOf(d DType) etype {
	if d == "" {
		return eFloat32
	}
	for t := range etypes {
		if etype(t) != eNone && etypes[t].name == d {
			return etype(t)
		}
	}
	return eNone
}

// etypeOfORT returns the etype of an ONNX element type, or eNone.
func etypeOfORT(t ort.TensorElementDataType) etype {
	for e := range etypes {
		if etype(e) != eNone && etypes[e].ort == t {
			return etype(e)
		}
	}
	return eNone
}

// dtypeNames lists the DTypes for error messages.
const dtypeNames = "float32|float64|float16|bfloat16|int8|int16|int32|int64|uint8|uint16|uint32|uint64|bool|string"

// elemName writes an ONNX element type the way a signature names it.
func elemName(t ort.TensorElementDataType) string {
	if e := etypeOfORT(t); e != eNone {
		return string(e.info().name)
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}

// putFloat writes f as element i of b in numeric type t. A value t cannot
// hold is a MapError of field.
func putFloat(field string, t etype, b []byte, i int, f float64) *MapError {
	if t == eFloat32 { // the common case first
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
			return mapErr(field, dlq.NonFinite, "%v is not a finite float32", f)
		}
		binary.NativeEndian.PutUint32(b[4*i:], math.Float32bits(float32(f)))
		return nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return mapErr(field, dlq.NonFinite, "%v is not finite", f)
	}
	info := t.info()
	if info.integer {
		if f != math.Trunc(f) || f < info.min || f > info.max || (info.size == 8 && f == info.max) {
			return mapErr(field, dlq.WrongType, "%v is not a %s", f, info.name)
		}
		if t == eUint64 {
			binary.NativeEndian.PutUint64(b[8*i:], uint64(f))
			return nil
		}
		putInt(t, b, i, int64(f))
		return nil
	}
	switch t {
	case eFloat64:
		binary.NativeEndian.PutUint64(b[8*i:], math.Float64bits(f))
	case eFloat16:
		if math.Abs(f) > maxFloat16 {
			return mapErr(field, dlq.NonFinite, "%v is not a finite float16", f)
		}
		binary.NativeEndian.PutUint16(b[2*i:], float16bits(float32(f)))
	case eBFloat16:
		if math.Abs(f) > maxBFloat16 {
			return mapErr(field, dlq.NonFinite, "%v is not a finite bfloat16", f)
		}
		binary.NativeEndian.PutUint16(b[2*i:], bfloat16bits(float32(f)))
	case eBool:
		switch f {
		case 0, 1:
			b[i] = byte(f)
		default:
			return mapErr(field, dlq.WrongType, "%v is not a bool (0 or 1)", f)
		}
	}
	return nil
}

// putIntValue writes the integer n as element i of b in numeric type t,
// exactly when t is an integer type.
func putIntValue(field string, t etype, b []byte, i int, n int64) *MapError {
	info := t.info()
	if !info.integer {
		return putFloat(field, t, b, i, float64(n))
	}
	if (t == eUint64 && n < 0) || (info.size < 8 && (float64(n) < info.min || float64(n) > info.max)) {
		return mapErr(field, dlq.WrongType, "%d is not a %s", n, info.name)
	}
	putInt(t, b, i, n)
	return nil
}

// putInt writes n, already in range, as element i of b in integer type t.
func putInt(t etype, b []byte, i int, n int64) {
	switch t.info().size {
	case 1:
		b[i] = byte(n)
	case 2:
		binary.NativeEndian.PutUint16(b[2*i:], uint16(n))
	case 4:
		binary.NativeEndian.PutUint32(b[4*i:], uint32(n))
	case 8:
		binary.NativeEndian.PutUint64(b[8*i:], uint64(n))
	}
}

// getFloat reads element i of b, in numeric type t, as a float64. 64-bit
// integers beyond 2^53 are rounded.
func getFloat(t etype, b []byte, i int) float64 {
	switch t {
	case eFloat32:
		return float64(math.Float32frombits(binary.NativeEndian.Uint32(b[4*i:])))
	case eFloat64:
		return math.Float64frombits(binary.NativeEndian.Uint64(b[8*i:]))
	case eFloat16:
		return float64(float16toFloat32(binary.NativeEndian.Uint16(b[2*i:])))
	case eBFloat16:
		return float64(math.Float32frombits(uint32(binary.NativeEndian.Uint16(b[2*i:])) << 16))
	case eInt8:
		return float64(int8(b[i]))
	case eUint8, eBool:
		return float64(b[i])
	case eInt16:
		return float64(int16(binary.NativeEndian.Uint16(b[2*i:])))
	case eUint16:
		return float64(binary.NativeEndian.Uint16(b[2*i:]))
	case eInt32:
		return float64(int32(binary.NativeEndian.Uint32(b[4*i:])))
	case eUint32:
		return float64(binary.NativeEndian.Uint32(b[4*i:]))
	case eInt64:
		return float64(int64(binary.NativeEndian.Uint64(b[8*i:])))
	case eUint64:
		return float64(binary.NativeEndian.Uint64(b[8*i:]))
	}
	return math.NaN()
}

// getInt reads element i of b, in integer type t, exactly (uint64 beyond
// 2^63 wraps).
func getInt(t etype, b []byte, i int) int64 {
	if t.info().size == 8 {
		return int64(binary.NativeEndian.Uint64(b[8*i:]))
	}
	return int64(getFloat(t, b, i))
}

// The largest finite values of the 16-bit float types.
const (
	maxFloat16  = 65504
	maxBFloat16 = 3.3895313892515355e38
)

// float16bits rounds f to the nearest IEEE half-precision value (ties to
// even) and returns its bits. f must be finite and within ±maxFloat16.
func float16bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 0x1f:
		return sign | 0x7bff // only reached by rounding up to 65520 and over
	case exp <= 0:
		if exp < -10 {
			return sign // underflows to ±0
		}
		// A subnormal half: shift the mantissa, with its implicit bit.
		mant |= 0x800000
		shift := uint32(14 - exp)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is still right
	}
	if half >= 0x7c00 {
		half = 0x7bff
	}
	return sign | uint16(half)
}

// float16toFloat32 widens IEEE half-precision bits to a float32.
func float16toFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: normalize it.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bfloat16bits rounds f to the nearest bfloat16 (ties to even): the top
// half of its float32 bits.
func bfloat16bits(f float32) uint16 {
	b := math.Float32bits(f)
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
