package inference

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file hand-encodes tiny ONNX models for the tests, so that they do not
// depend on any exporter. Field numbers are those of onnx.proto.

// gemmModel is Y = X·Wᵀ + B, then Softmax over axis 1 if softmax is set.
type gemmModel struct {
	in, out string
	w       [][]float32 // classes x width
	b       []float32
	softmax bool
	inDims  []any // int64 or string (symbolic) per dimension; default [N width]
	outDims []any // default [N classes]
	flat    bool  // reshape the output to [N] (for a one-column score)
}

func (g gemmModel) width() int { return len(g.w[0]) }

// forward is the same model in Go, the reference the tests compare with.
func (g gemmModel) forward(x []float32) []float32 {
	y := make([]float32, len(g.w))
	for c, row := range g.w {
		s := float64(g.b[c])
		for j, wj := range row {
			s += float64(wj) * float64(x[j])
		}
		y[c] = float32(s)
	}
	if g.softmax {
		m := y[0]
		for _, v := range y {
			m = max(m, v)
		}
		var sum float64
		for i, v := range y {
			e := math.Exp(float64(v - m))
			y[i] = float32(e)
			sum += e
		}
		for i := range y {
			y[i] = float32(float64(y[i]) / sum)
		}
	}
	return y
}

// encode returns the ModelProto bytes.
func (g gemmModel) encode() []byte {
	classes := int64(len(g.w))
	inDims, outDims := g.inDims, g.outDims
	if inDims == nil {
		inDims = []any{"N", int64(g.width())}
	}
	if outDims == nil {
		outDims = []any{"N", classes}
		if g.flat {
			outDims = []any{"N"}
		}
	}
	flatW := make([]float32, 0, len(g.w)*g.width())
	for _, row := range g.w {
		flatW = append(flatW, row...)
	}
	var graph []byte
	gemmOut := g.out
	if g.softmax || g.flat {
		gemmOut = "logits"
	}
	graph = appendMsg(graph, 1, node("gemm", "Gemm", []string{g.in, "W", "B"}, gemmOut, intAttr("transB", 1)))
	if g.softmax {
		graph = appendMsg(graph, 1, node("softmax", "Softmax", []string{"logits"}, g.out, intAttr("axis", 1)))
	}
	if g.flat {
		graph = appendMsg(graph, 1, node("flatten", "Reshape", []string{"logits", "shape"}, g.out, nil))
	}
	graph = protowire.AppendTag(graph, 2, protowire.BytesType)
	graph = protowire.AppendString(graph, "sluice_test")
	graph = appendMsg(graph, 5, floatTensor("W", []int64{classes, int64(g.width())}, flatW))
	graph = appendMsg(graph, 5, floatTensor("B", []int64{classes}, g.b))
	if g.flat {
		graph = appendMsg(graph, 5, int64Tensor("shape", []int64{-1}))
	}
	graph = appendMsg(graph, 11, valueInfo(g.in, inDims))
	graph = appendMsg(graph, 12, valueInfo(g.out, outDims))

	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, 8) // ir_version
	m = protowire.AppendTag(m, 2, protowire.BytesType)
	m = protowire.AppendString(m, "sluice-inference-tests") // producer_name
	m = appendMsg(m, 7, graph)
	var opset []byte
	opset = protowire.AppendTag(opset, 1, protowire.BytesType)
	opset = protowire.AppendString(opset, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 13)
	return appendMsg(m, 8, opset)
}

func appendMsg(b []byte, field protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendStr(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// node is a NodeProto with one output and at most one attribute.
func node(name, op string, inputs []string, output string, attr []byte) []byte {
	var b []byte
	for _, in := range inputs {
		b = appendStr(b, 1, in)
	}
	b = appendStr(b, 2, output)
	b = appendStr(b, 3, name)
	b = appendStr(b, 4, op)
	if attr != nil {
		b = appendMsg(b, 5, attr)
	}
	return b
}

// intAttr is an AttributeProto of type INT.
func intAttr(name string, v int64) []byte {
	b := appendStr(nil, 1, name)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, 2) // AttributeType INT
}

func tensorHeader(name string, dims []int64, dataType uint64) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, dataType)
	return appendStr(b, 8, name)
}

// floatTensor is a float TensorProto with little-endian raw_data.
func floatTensor(name string, dims []int64, vals []float32) []byte {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return appendMsg(tensorHeader(name, dims, 1), 9, raw)
}

// int64Tensor is a one-dimensional int64 TensorProto.
func int64Tensor(name string, vals []int64) []byte {
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return appendMsg(tensorHeader(name, []int64{int64(len(vals))}, 7), 9, raw)
}

// valueInfo is a ValueInfoProto of a float tensor; a string dimension is
// symbolic.
func valueInfo(name string, dims []any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch d := d.(type) {
		case string:
			dim = appendStr(dim, 2, d)
		case int64:
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = appendMsg(shape, 1, dim)
	}
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, 1) // FLOAT
	tensor = appendMsg(tensor, 2, shape)
	typ := appendMsg(nil, 1, tensor)
	b := appendStr(nil, 1, name)
	return appendMsg(b, 2, typ)
}
