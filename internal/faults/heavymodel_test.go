package faults

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/training"
)

// heavyModel returns an ONNX model for the demo signature that does far
// more work per row than the demo model: width → hidden → hidden → 2, relu
// layers and a softmax, random weights.
func heavyModel(t *testing.T, width, hidden int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	widths := []int{width, hidden, hidden, 2}
	m := &training.MLP{Output: training.OutputSoftmax}
	for i := 1; i < len(widths); i++ {
		in, out := widths[i-1], widths[i]
		d := training.Dense{W: make([][]float32, out), B: make([]float32, out)}
		for j := range d.W {
			d.W[j] = make([]float32, in)
			for k := range d.W[j] {
				d.W[j][k] = float32(math.Sqrt(2/float64(in)) * r.NormFloat64())
			}
		}
		if i < len(widths)-1 {
			d.Act = training.ActRelu
		}
		m.Layers = append(m.Layers, d)
	}
	b, err := training.WriteONNX(m, "features", "probabilities")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batchTime is the median time ONNX Runtime takes to score a batch of n
// rows with the model (one intra-op thread, as the workers run it).
func batchTime(t *testing.T, onnx []byte, sig *inference.Signature, n int) time.Duration {
	t.Helper()
	m, err := inference.LoadModel("timing", "1", onnx, sig, inference.SessionConfig{Provider: "cpu", IntraOpThreads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rows := make([]float32, n*sig.Width())
	for i := range rows {
		rows[i] = float32(i%7) * 0.1
	}
	out := make([]float32, n*m.OutWidth())
	var times []time.Duration
	for range 15 {
		start := time.Now()
		if _, err := m.Infer(context.Background(), rows, n, out); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	for i := range times { // insertion sort: 15 values
		for j := i; j > 0 && times[j] < times[j-1]; j-- {
			times[j], times[j-1] = times[j-1], times[j]
		}
	}
	return times[len(times)/2]
}
