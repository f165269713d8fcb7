package training

import (
	"errors"
	"fmt"
	"math"
)

// Activations of a Dense layer. "none" is accepted as ActNone.
const (
	ActNone = ""
	ActRelu = "relu"
)

// Output functions of an MLP. "none" is accepted as OutputNone.
const (
	OutputNone    = ""
	OutputSoftmax = "softmax"
	OutputSigmoid = "sigmoid"
)

// Dense is one fully connected layer: y = act(W·x + B), W is out × in. It
// is plain data, safe to read concurrently but not to change while read.
type Dense struct {
	W   [][]float32
	B   []float32
	Act string
}

// In is the layer's input width.
func (d *Dense) In() int {
	if len(d.W) == 0 {
		return 0
	}
	return len(d.W[0])
}

// Out is the layer's output width.
func (d *Dense) Out() int { return len(d.W) }

// MLP is a stack of dense layers followed by an output function over the
// last layer's outputs (softmax across them, element-wise sigmoid, or none).
// An MLP is plain data: reading it concurrently is safe, changing it while
// others read it is not.
type MLP struct {
	Layers []Dense
	Output string
}

// In is the width of the model's input.
func (m *MLP) In() int {
	if len(m.Layers) == 0 {
		return 0
	}
	return m.Layers[0].In()
}

// Out is the width of the model's output.
func (m *MLP) Out() int {
	if len(m.Layers) == 0 {
		return 0
	}
	return m.Layers[len(m.Layers)-1].Out()
}

// Validate reports the first layer whose shapes do not chain, whose
// activation or output function is unknown, or whose weights are not finite.
func (m *MLP) Validate() error {
	if len(m.Layers) == 0 {
		return errors.New("retrain: model has no layers")
	}
	switch m.Output {
	case OutputNone, "none", OutputSoftmax, OutputSigmoid:
	default:
		return fmt.Errorf("retrain: unknown output %q", m.Output)
	}
	in := m.Layers[0].In()
	for i := range m.Layers {
		d := &m.Layers[i]
		if d.Out() == 0 || d.In() == 0 {
			return fmt.Errorf("retrain: layer %d is empty", i)
		}
		if d.In() != in {
			return fmt.Errorf("retrain: layer %d takes %d inputs, previous gives %d", i, d.In(), in)
		}
		if len(d.B) != d.Out() {
			return fmt.Errorf("retrain: layer %d has %d biases for %d outputs", i, len(d.B), d.Out())
		}
		if d.Act != ActNone && d.Act != "none" && d.Act != ActRelu {
			return fmt.Errorf("retrain: layer %d: unknown activation %q", i, d.Act)
		}
		for j, row := range d.W {
			if len(row) != in {
				return fmt.Errorf("retrain: layer %d row %d has %d weights, want %d", i, j, len(row), in)
			}
			if !finite(row) {
				return fmt.Errorf("retrain: layer %d row %d has a non-finite weight", i, j)
			}
		}
		if !finite(d.B) {
			return fmt.Errorf("retrain: layer %d has a non-finite bias", i)
		}
		in = d.Out()
	}
	return nil
}

// Forward runs the model on one input row in float32, the way ONNX Runtime
// runs the exported graph (Gemm sums the products, then adds the bias). It
// panics if len(x) is not m.In(). It is safe for concurrent use.
func (m *MLP) Forward(x []float32) []float32 {
	if len(x) != m.In() {
		panic(fmt.Sprintf("retrain: forward got %d inputs, model takes %d", len(x), m.In()))
	}
	for i := range m.Layers {
		d := &m.Layers[i]
		y := make([]float32, d.Out())
		for j, row := range d.W {
			var s float32
			for k, w := range row {
				s += w * x[k]
			}
			s += d.B[j]
			if d.Act == ActRelu && s < 0 {
				s = 0
			}
			y[j] = s
		}
		x = y
	}
	switch m.Output {
	case OutputSoftmax:
		softmax32(x)
	case OutputSigmoid:
		for i, v := range x {
			x[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	}
	return x
}

func softmax32(x []float32) {
	if len(x) == 0 {
		return
	}
	hi := x[0]
	for _, v := range x[1:] {
		hi = max(hi, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - hi)))
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}

func finite(v []float32) bool {
	for _, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
	}
	return true
}
