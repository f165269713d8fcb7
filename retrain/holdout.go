package retrain

import (
	"context"
	"fmt"
	"math"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/training"
)

// scoreChunk is how many rows go to ONNX Runtime at once.
const scoreChunk = 1024

// score loads an ONNX model on the CPU with ONNX Runtime and returns its
// outputs on rows, sig.OutWidth() values per row.
func (r *Retrainer) score(ctx context.Context, name, version string, onnx []byte, sig *inference.Signature, rows [][]float32) ([]float32, error) {
	m, err := inference.LoadModel(name, version, onnx, sig, r.session, nil)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	w, ow := sig.Width(), sig.OutWidth()
	out := make([]float32, len(rows)*ow)
	in := make([]float32, 0, scoreChunk*w)
	var res []float32
	for start := 0; start < len(rows); start += scoreChunk {
		chunk := rows[start:min(start+scoreChunk, len(rows))]
		in = in[:0]
		for _, row := range chunk {
			in = append(in, row...)
		}
		if res, err = m.Infer(ctx, in, len(chunk), res); err != nil {
			return nil, fmt.Errorf("scoring with model %s version %s: %w", name, version, err)
		}
		copy(out[start*ow:], res)
	}
	return out, nil
}

// evaluation is a model's holdout metrics.
type evaluation struct {
	AUC, LogLoss, Accuracy float64
}

// evaluateOutputs measures class probabilities out (classes per row)
// against labels y: ROC AUC of class 1 for two classes (the mean
// one-vs-rest AUC for more; NaN when a class is missing), log-loss and
// accuracy.
func evaluateOutputs(out []float32, classes int, y []int) evaluation {
	var e evaluation
	probs := make([][]float32, len(y))
	correct := 0
	for i, label := range y {
		p := out[i*classes : (i+1)*classes]
		probs[i] = p
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		if best == label {
			correct++
		}
		e.LogLoss -= math.Log(max(float64(p[label]), 1e-15))
	}
	n := float64(len(y))
	e.Accuracy, e.LogLoss = float64(correct)/n, e.LogLoss/n
	if classes == 2 {
		e.AUC = training.ROCAUC(probs, y, 1)
	} else {
		for c := range classes {
			e.AUC += training.ROCAUC(probs, y, c) / float64(classes)
		}
	}
	return e
}

// finiteMetrics drops non-finite values, which JSON cannot carry.
func finiteMetrics(m map[string]float64) map[string]float64 {
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(m, k)
		}
	}
	return m
}
