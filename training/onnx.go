package training

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX enum values and versions the writer uses.
const (
	onnxIRVersion   = 8
	onnxOpset       = 13
	onnxFloat       = 1 // TensorProto.DataType FLOAT
	onnxAttrInt     = 2 // AttributeProto.AttributeType INT
	onnxBatchParam  = "N"
	onnxProducer    = "sluice"
	onnxGraphName   = "sluice_mlp"
	onnxMaxRawBytes = 1 << 31
)

// WriteONNX encodes m as an ONNX model (IR version 8, opset 13): one Gemm
// (transB=1) per layer, each followed by Relu where the layer has it, then
// Softmax(axis=1) or Sigmoid. The input inputName is float32 [N, m.In()] and
// the output outputName is float32 [N, m.Out()], with N a symbolic batch
// dimension. It is safe for concurrent use if m is not being changed.
func WriteONNX(m *MLP, inputName, outputName string) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if inputName == "" || outputName == "" || inputName == outputName {
		return nil, fmt.Errorf("retrain: tensor names %q and %q must be distinct and not empty", inputName, outputName)
	}
	size := 0
	for i := range m.Layers {
		d := &m.Layers[i]
		size += 4 * (d.Out() + d.Out()*d.In())
	}
	if size >= onnxMaxRawBytes {
		return nil, errors.New("retrain: model too large for one protobuf")
	}

	var nodes, inits [][]byte
	cur := inputName
	last := len(m.Layers) - 1
	// next names the output of an op: outputName for the graph's last op.
	next := func(name string, final bool) string {
		if final {
			return outputName
		}
		return name
	}
	for i := range m.Layers {
		d := &m.Layers[i]
		w, b := fmt.Sprintf("layer%d.weight", i), fmt.Sprintf("layer%d.bias", i)
		inits = append(inits,
			tensorProto(w, []int{d.Out(), d.In()}, d.W),
			tensorProto(b, []int{d.Out()}, [][]float32{d.B}))
		noOutput := m.Output != OutputSoftmax && m.Output != OutputSigmoid
		lastOp := i == last && d.Act != ActRelu && noOutput
		out := next(fmt.Sprintf("layer%d.gemm", i), lastOp)
		nodes = append(nodes, nodeProto(fmt.Sprintf("gemm%d", i), "Gemm",
			[]string{cur, w, b}, out, intAttr("transB", 1)))
		cur = out
		if d.Act == ActRelu {
			out = next(fmt.Sprintf("layer%d.relu", i), i == last && noOutput)
			nodes = append(nodes, nodeProto(fmt.Sprintf("relu%d", i), "Relu", []string{cur}, out))
			cur = out
		}
	}
	switch m.Output {
	case OutputSoftmax:
		nodes = append(nodes, nodeProto("softmax", "Softmax", []string{cur}, outputName, intAttr("axis", 1)))
	case OutputSigmoid:
		nodes = append(nodes, nodeProto("sigmoid", "Sigmoid", []string{cur}, outputName))
	}

	var g []byte
	for _, n := range nodes {
		g = appendMessage(g, 1, n)
	}
	g = protowire.AppendTag(g, 2, protowire.BytesType)
	g = protowire.AppendString(g, onnxGraphName)
	for _, t := range inits {
		g = appendMessage(g, 5, t)
	}
	g = appendMessage(g, 11, valueInfo(inputName, m.In()))
	g = appendMessage(g, 12, valueInfo(outputName, m.Out()))

	var opset []byte
	opset = protowire.AppendTag(opset, 1, protowire.BytesType)
	opset = protowire.AppendString(opset, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, onnxOpset)

	model := make([]byte, 0, len(g)+64)
	model = protowire.AppendTag(model, 1, protowire.VarintType)
	model = protowire.AppendVarint(model, onnxIRVersion)
	model = protowire.AppendTag(model, 2, protowire.BytesType)
	model = protowire.AppendString(model, onnxProducer)
	model = appendMessage(model, 7, g)
	model = appendMessage(model, 8, opset)
	return model, nil
}
