package training

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX protobuf messages WriteONNX needs, encoded by hand. Field
// numbers are those of onnx.proto.

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// nodeProto encodes a NodeProto with one output.
func nodeProto(name, op string, inputs []string, output string, attrs ...[]byte) []byte {
	var b []byte
	for _, in := range inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, output)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendString(b, op)
	for _, a := range attrs {
		b = appendMessage(b, 5, a)
	}
	return b
}

// intAttr encodes an AttributeProto of type INT.
func intAttr(name string, v int64) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, onnxAttrInt)
	return b
}

// tensorProto encodes a float32 TensorProto of shape dims holding rows
// concatenated.
func tensorProto(name string, dims []int, rows [][]float32) []byte {
	var packed []byte
	n := 1
	for _, d := range dims {
		packed = protowire.AppendVarint(packed, uint64(d))
		n *= d
	}
	raw := make([]byte, 0, 4*n)
	for _, r := range rows {
		for _, v := range r {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	b := make([]byte, 0, len(raw)+len(name)+32)
	b = appendMessage(b, 1, packed)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, onnxFloat)
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = appendMessage(b, 9, raw)
	return b
}

// valueInfo encodes a ValueInfoProto for a float32 [N, width] tensor.
func valueInfo(name string, width int) []byte {
	var batch, cols []byte
	batch = protowire.AppendTag(batch, 2, protowire.BytesType)
	batch = protowire.AppendString(batch, onnxBatchParam)
	cols = protowire.AppendTag(cols, 1, protowire.VarintType)
	cols = protowire.AppendVarint(cols, uint64(width))
	var shape []byte
	shape = appendMessage(shape, 1, batch)
	shape = appendMessage(shape, 1, cols)
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, onnxFloat)
	tensor = appendMessage(tensor, 2, shape)
	var typ []byte
	typ = appendMessage(typ, 1, tensor)
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	return appendMessage(b, 2, typ)
}
