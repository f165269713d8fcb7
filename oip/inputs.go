package oip

import (
	"strings"

	"github.com/sluice-ml/sluice/inference"
)

// field is one input of the protocol: a record field that fills part of a
// model input tensor (a signature column, or the array field of an input).
type field struct {
	name     string
	kind     inference.ColumnKind
	dtype    inference.DType // of the tensor it fills
	width    int             // elements per row: an array's length, else 1
	optional bool            // a request may leave it out
}

// fields lists the protocol's inputs for sig, in the order of its inputs
// and columns.
func fields(sig *inference.Signature) []field {
	var out []field
	for _, in := range sig.InputSpecs() {
		dt := in.DType
		if dt == "" {
			dt = inference.DTypeFloat32
		}
		if in.Field != "" {
			w := 1
			if len(in.Shape) > 0 {
				w = 1
				dims := in.Shape[1:]
				if sig.Batch == inference.BatchNone {
					dims = in.Shape
				}
				for _, d := range dims {
					w *= int(max(d, 1))
				}
			}
			kind := inference.KindArray
			if dt == inference.DTypeString {
				kind = inference.KindString
			}
			out = append(out, field{name: in.Field, kind: kind, dtype: dt, width: w, optional: in.Impute != nil})
			continue
		}
		for _, c := range in.Columns {
			out = append(out, field{name: c.Field, kind: c.Kind, dtype: dt, width: max(c.Length, 1),
				optional: c.Impute != nil || (c.Kind == inference.KindCategorical && c.Unknown == inference.UnknownZero)})
		}
	}
	return out
}

// array reports whether f takes an array per row.
func (f field) array() bool { return f.kind == inference.KindArray || f.width > 1 }

// datatype is what metadata advertises for f: the model tensor's element
// type for numbers (FP32 for a float32 tensor, whatever the Avro field's
// type), BOOL for booleans, BYTES for strings and categories.
func (f field) datatype() string {
	switch f.kind {
	case inference.KindBoolean:
		return typeBool
	case inference.KindCategorical, inference.KindString:
		return typeBytes
	}
	if f.dtype == inference.DTypeBool {
		return "UINT8" // numbers 0 and 1 into a bool tensor
	}
	return tensorTypes[f.dtype]
}

// shape is f's shape with the batch dimension -1.
func (f field) shape() []int64 {
	if f.array() {
		return []int64{-1, int64(f.width)}
	}
	return []int64{-1}
}

// tensorTypes names the protocol datatype of each tensor element type.
var tensorTypes = map[inference.DType]string{
	inference.DTypeFloat32: typeFP32, inference.DTypeFloat64: typeFP64, inference.DTypeFloat16: "FP16",
	inference.DTypeBFloat16: "BF16", inference.DTypeInt8: "INT8", inference.DTypeInt16: "INT16",
	inference.DTypeInt32: "INT32", inference.DTypeInt64: "INT64", inference.DTypeUint8: "UINT8",
	inference.DTypeUint16: "UINT16", inference.DTypeUint32: "UINT32", inference.DTypeUint64: "UINT64",
	inference.DTypeBool: typeBool, inference.DTypeString: typeBytes,
}

func fieldNames(fs []field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}
