package training

import (
	"errors"
	"fmt"
	"math"
)

// checkData validates the training data and returns the number of classes.
func checkData(X [][]float32, y []int, classes int) (int, error) {
	if len(X) == 0 {
		return 0, errors.New("retrain: no training rows")
	}
	if len(X) != len(y) {
		return 0, fmt.Errorf("retrain: %d rows but %d labels", len(X), len(y))
	}
	width := len(X[0])
	if width == 0 {
		return 0, errors.New("retrain: rows have no features")
	}
	top := 0
	for i, row := range X {
		if len(row) != width {
			return 0, fmt.Errorf("retrain: row %d has %d features, row 0 has %d", i, len(row), width)
		}
		if !finite(row) {
			return 0, fmt.Errorf("retrain: row %d has a non-finite feature", i)
		}
		if y[i] < 0 || (classes > 0 && y[i] >= classes) {
			return 0, fmt.Errorf("retrain: row %d has label %d", i, y[i])
		}
		top = max(top, y[i])
	}
	if classes == 0 {
		classes = max(2, top+1)
	}
	return classes, nil
}

// standardisation returns each feature's mean and standard deviation over
// the rows idx (1 where a feature is constant).
func standardisation(X [][]float32, idx []int, width int) (mean, std []float64) {
	mean, std = make([]float64, width), make([]float64, width)
	for _, i := range idx {
		for k, v := range X[i] {
			mean[k] += float64(v)
		}
	}
	for k := range mean {
		mean[k] /= float64(len(idx))
	}
	for _, i := range idx {
		for k, v := range X[i] {
			d := float64(v) - mean[k]
			std[k] += d * d
		}
	}
	for k := range std {
		std[k] = math.Sqrt(std[k] / float64(len(idx)))
		if std[k] < 1e-12 {
			std[k] = 1
		}
	}
	return mean, std
}

// export converts the trained network to a float32 MLP taking raw
// features: W'·x + b' = W·((x - mean)/std) + b.
func export(n *net, mean, std []float64) *MLP {
	m := &MLP{Output: OutputSoftmax}
	for li, l := range n.layers {
		d := Dense{W: make([][]float32, l.out), B: make([]float32, l.out)}
		if l.relu {
			d.Act = ActRelu
		}
		for j := range l.out {
			row := l.w[j*l.in : (j+1)*l.in]
			d.W[j] = make([]float32, l.in)
			bias := l.b[j]
			for k, w := range row {
				if li == 0 {
					w /= std[k]
					bias -= w * mean[k]
				}
				d.W[j][k] = float32(w)
			}
			d.B[j] = float32(bias)
		}
		m.Layers = append(m.Layers, d)
	}
	return m
}
