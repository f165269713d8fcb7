package training

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Graph is an ONNX graph (IR version 8, opset 13) encoded by hand, field
// by field as onnx.proto numbers them: WriteONNX writes its networks with
// it, and tests write the odd graph they need (one that fails on some
// rows, say) without a copy of the encoder. Its inputs and outputs are
// float32 [N, width] tensors with a symbolic batch dimension N. A Graph is
// not safe for concurrent use.
type Graph struct {
	name          string
	nodes, inits  [][]byte
	inputs, outps [][]byte
}

// Attr is an encoded AttributeProto (IntAttr).
type Attr []byte

// NewGraph returns an empty graph called name.
func NewGraph(name string) *Graph { return &Graph{name: name} }

// Node adds a NodeProto: op (an ONNX operator of the default domain) named
// name, reading inputs and writing output.
func (g *Graph) Node(name, op string, inputs []string, output string, attrs ...Attr) {
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
	g.nodes = append(g.nodes, b)
}

// IntAttr is an INT attribute.
func IntAttr(name string, v int64) Attr {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, onnxAttrInt)
	return b
}

// Float32 adds a float32 initialiser of shape dims (nil: a scalar) holding
// rows concatenated.
func (g *Graph) Float32(name string, dims []int, rows ...[]float32) {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	raw := make([]byte, 0, 4*n)
	for _, r := range rows {
		for _, v := range r {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	g.inits = append(g.inits, tensorProto(name, onnxFloat, dims, raw))
}

// Int64 adds an int64 initialiser of shape dims (nil: a scalar).
func (g *Graph) Int64(name string, dims []int, values ...int64) {
	raw := make([]byte, 0, 8*len(values))
	for _, v := range values {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	g.inits = append(g.inits, tensorProto(name, onnxInt64, dims, raw))
}

// Input declares a float32 [N, width] graph input.
func (g *Graph) Input(name string, width int) { g.inputs = append(g.inputs, valueInfo(name, width)) }

// Output declares a float32 [N, width] graph output.
func (g *Graph) Output(name string, width int) { g.outps = append(g.outps, valueInfo(name, width)) }

// Model encodes the ModelProto holding the graph, produced by sluice.
func (g *Graph) Model() []byte {
	var gb []byte
	for _, n := range g.nodes {
		gb = appendMessage(gb, 1, n)
	}
	gb = protowire.AppendTag(gb, 2, protowire.BytesType)
	gb = protowire.AppendString(gb, g.name)
	for _, t := range g.inits {
		gb = appendMessage(gb, 5, t)
	}
	for _, v := range g.inputs {
		gb = appendMessage(gb, 11, v)
	}
	for _, v := range g.outps {
		gb = appendMessage(gb, 12, v)
	}
	var opset []byte
	opset = protowire.AppendTag(opset, 1, protowire.BytesType)
	opset = protowire.AppendString(opset, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, onnxOpset)

	model := make([]byte, 0, len(gb)+64)
	model = protowire.AppendTag(model, 1, protowire.VarintType)
	model = protowire.AppendVarint(model, onnxIRVersion)
	model = protowire.AppendTag(model, 2, protowire.BytesType)
	model = protowire.AppendString(model, onnxProducer)
	model = appendMessage(model, 7, gb)
	return appendMessage(model, 8, opset)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// tensorProto encodes a TensorProto of dataType and shape dims (none for a
// scalar) with little-endian raw data.
func tensorProto(name string, dataType uint64, dims []int, raw []byte) []byte {
	b := make([]byte, 0, len(raw)+len(name)+32)
	if len(dims) > 0 {
		var packed []byte
		for _, d := range dims {
			packed = protowire.AppendVarint(packed, uint64(d))
		}
		b = appendMessage(b, 1, packed)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, dataType)
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendString(b, name)
	return appendMessage(b, 9, raw)
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
