package faults

import "github.com/sluice-ml/sluice/training"

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
	g := training.NewGraph("poison")
	g.Node("pick", "Gather", []string{"features", "col"}, "amount", training.IntAttr("axis", 1))
	g.Node("scale", "Div", []string{"amount", "scale"}, "scaled")
	g.Node("index", "Cast", []string{"scaled"}, "row", training.IntAttr("to", 7)) // INT64
	g.Node("lookup", "Gather", []string{"table", "row"}, "probabilities", training.IntAttr("axis", 0))
	g.Int64("col", nil, 0)
	g.Float32("scale", nil, []float32{poisonScale})
	g.Float32("table", []int{1, 2}, []float32{0.8, 0.2})
	g.Input("features", width)
	g.Output("probabilities", 2)
	return g.Model()
}
