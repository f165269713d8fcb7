package inference_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
	"github.com/sluice-ml/sluice/training"
)

// A Swapper is what the worker acquires its model from.
var _ pipeline.Models = (*inference.Swapper)(nil)

// swapModelONNX writes a random one-layer softmax model over the demo
// signature's 26 columns with the project's ONNX writer.
func swapModelONNX(t testing.TB, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	sig := training.DemoSignature()
	w := make([][]float32, sig.OutWidth())
	for i := range w {
		w[i] = make([]float32, sig.Width())
		for j := range w[i] {
			w[i][j] = float32(r.NormFloat64() * 0.1)
		}
	}
	mlp := &training.MLP{
		Layers: []training.Dense{{W: w, B: make([]float32, sig.OutWidth())}},
		Output: training.OutputSoftmax,
	}
	b, err := training.WriteONNX(mlp, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadSwapModel loads a demo-shaped model named fraud at version v. The
// test owns it until it hands it to a Swapper.
func loadSwapModel(t testing.TB, v int) *inference.Model {
	t.Helper()
	lib, err := inference.FindLibrary()
	if err != nil {
		t.Fatalf("%v\n(ONNXRUNTIME_LIB=$(scripts/fetch-onnxruntime.sh) go test ./inference/)", err)
	}
	if err := inference.InitRuntime(lib); err != nil {
		t.Fatal(err)
	}
	m, err := inference.LoadModel("fraud", fmt.Sprint(v), swapModelONNX(t, uint64(v)),
		training.DemoSignature(), inference.SessionConfig{Provider: inference.ProviderCPU, IntraOpThreads: 1, Sessions: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// closeSwapper closes s when the test ends.
func closeSwapper(t testing.TB, s *inference.Swapper) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
}
