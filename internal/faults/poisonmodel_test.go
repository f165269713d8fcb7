package faults

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// poisonScale divides the first input column before it becomes a row
// index: a demo amount (well under poisonScale) picks row 0, an amount of
// poisonAmount picks row 1000 of a one-row table, and ONNX Runtime fails
// the whole batch ("indices element out of data bounds").
const (
	poisonScale  = 1e9
	poisonAmount = 1e12
)

// poisonModel returns an ONNX model (IR 8, opset 13) for the demo
// signature that scores every row [0.8, 0.2], except that a row whose
// first column (amount) is at least poisonScale makes ONNX Runtime fail
// the run:
//
//	features[N,26] → Gather(axis=1, 0) → Div(poisonScale) → Cast(int64)
//	               → Gather(table[1,2], axis=0) → probabilities[N,2]
func poisonModel(width int) []byte {
	nodes := [][]byte{
		onnxNode("pick", "Gather", []string{"features", "col"}, "amount", onnxIntAttr("axis", 1)),
		onnxNode("scale", "Div", []string{"amount", "scale"}, "scaled"),
		onnxNode("index", "Cast", []string{"scaled"}, "row", onnxIntAttr("to", 7)), // INT64
		onnxNode("lookup", "Gather", []string{"table", "row"}, "probabilities", onnxIntAttr("axis", 0)),
	}
	inits := [][]byte{
		onnxTensor("col", 7, nil, binary.LittleEndian.AppendUint64(nil, 0)),
		onnxTensor("scale", 1, nil, binary.LittleEndian.AppendUint32(nil, math.Float32bits(poisonScale))),
		onnxTensor("table", 1, []int{1, 2}, binary.LittleEndian.AppendUint32(
			binary.LittleEndian.AppendUint32(nil, math.Float32bits(0.8)), math.Float32bits(0.2))),
	}
	var g []byte
	for _, n := range nodes {
		g = onnxMessage(g, 1, n)
	}
	g = protowire.AppendTag(g, 2, protowire.BytesType)
	g = protowire.AppendString(g, "poison")
	for _, t := range inits {
		g = onnxMessage(g, 5, t)
	}
	g = onnxMessage(g, 11, onnxValueInfo("features", width))
	g = onnxMessage(g, 12, onnxValueInfo("probabilities", 2))

	var opset []byte
	opset = protowire.AppendTag(opset, 1, protowire.BytesType)
	opset = protowire.AppendString(opset, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 13)

	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, 8)
	m = onnxMessage(m, 7, g)
	return onnxMessage(m, 8, opset)
}

func onnxMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func onnxNode(name, op string, inputs []string, output string, attrs ...[]byte) []byte {
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
		b = onnxMessage(b, 5, a)
	}
	return b
}

func onnxIntAttr(name string, v int64) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, 2) // AttributeProto.INT
}

// onnxTensor encodes a TensorProto of dataType (1 float, 7 int64) with
// little-endian raw data; nil dims is a scalar.
func onnxTensor(name string, dataType uint64, dims []int, raw []byte) []byte {
	var b []byte
	if len(dims) > 0 {
		var packed []byte
		for _, d := range dims {
			packed = protowire.AppendVarint(packed, uint64(d))
		}
		b = onnxMessage(b, 1, packed)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, dataType)
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendString(b, name)
	return onnxMessage(b, 9, raw)
}

// onnxValueInfo declares a float32 [N, width] tensor.
func onnxValueInfo(name string, width int) []byte {
	var batch, cols, shape, tensor, typ, b []byte
	batch = protowire.AppendTag(batch, 2, protowire.BytesType)
	batch = protowire.AppendString(batch, "N")
	cols = protowire.AppendTag(cols, 1, protowire.VarintType)
	cols = protowire.AppendVarint(cols, uint64(width))
	shape = onnxMessage(shape, 1, batch)
	shape = onnxMessage(shape, 1, cols)
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, 1)
	tensor = onnxMessage(tensor, 2, shape)
	typ = onnxMessage(typ, 1, tensor)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	return onnxMessage(b, 2, typ)
}
