package training

import (
	"errors"
	"fmt"
)

// ONNX enum values and versions the writer uses.
const (
	onnxIRVersion   = 8
	onnxOpset       = 13
	onnxFloat       = 1 // TensorProto.DataType FLOAT
	onnxInt64       = 7 // TensorProto.DataType INT64
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

	g := NewGraph(onnxGraphName)
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
		g.Float32(w, []int{d.Out(), d.In()}, d.W...)
		g.Float32(b, []int{d.Out()}, d.B)
		noOutput := m.Output != OutputSoftmax && m.Output != OutputSigmoid
		lastOp := i == last && d.Act != ActRelu && noOutput
		out := next(fmt.Sprintf("layer%d.gemm", i), lastOp)
		g.Node(fmt.Sprintf("gemm%d", i), "Gemm", []string{cur, w, b}, out, IntAttr("transB", 1))
		cur = out
		if d.Act == ActRelu {
			out = next(fmt.Sprintf("layer%d.relu", i), i == last && noOutput)
			g.Node(fmt.Sprintf("relu%d", i), "Relu", []string{cur}, out)
			cur = out
		}
	}
	switch m.Output {
	case OutputSoftmax:
		g.Node("softmax", "Softmax", []string{cur}, outputName, IntAttr("axis", 1))
	case OutputSigmoid:
		g.Node("sigmoid", "Sigmoid", []string{cur}, outputName)
	}
	g.Input(inputName, m.In())
	g.Output(outputName, m.Out())
	return g.Model(), nil
}
