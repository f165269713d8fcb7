package inference

import (
	"fmt"
	"math/rand/v2"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// fraudShaped is a model the size of the demo's: 26 inputs, 2 classes.
func fraudShaped() gemmModel {
	r := rand.New(rand.NewPCG(5, 6))
	g := gemmModel{in: "features", out: "probabilities", softmax: true, w: make([][]float32, 2), b: []float32{0.1, -0.1}}
	for c := range g.w {
		g.w[c] = randomRows(r, 1, 26)
	}
	return g
}

// BenchmarkInfer measures Model.Infer: reused tensors, copy in, Run, copy
// out.
func BenchmarkInfer(b *testing.B) {
	g := fraudShaped()
	for _, threads := range []int{1, 0} {
		model := loadTest(b, g, SessionConfig{Provider: ProviderCPU, IntraOpThreads: threads}, nil)
		for _, n := range []int{1, 256} {
			b.Run(fmt.Sprintf("threads=%d/rows=%d", threads, n), func(b *testing.B) {
				rows := randomRows(rand.New(rand.NewPCG(1, 1)), n, 26)
				out := make([]float32, n*2)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := model.Infer(b.Context(), rows, n, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
			})
		}
	}
}

// BenchmarkInferFreshTensors is the alternative Infer did not take: wrap
// the caller's slices in new tensors on every call (no copies, two tensor
// creations and destructions).
func BenchmarkInferFreshTensors(b *testing.B) {
	g := fraudShaped()
	model := loadTest(b, g, SessionConfig{Provider: ProviderCPU, IntraOpThreads: 1}, nil)
	sess := model.all[0].sess
	for _, n := range []int{1, 256} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			rows := randomRows(rand.New(rand.NewPCG(1, 1)), n, 26)
			out := make([]float32, n*2)
			b.ReportAllocs()
			for b.Loop() {
				in, err := ort.NewTensor(ort.NewShape(int64(n), 26), rows)
				if err != nil {
					b.Fatal(err)
				}
				res, err := ort.NewTensor(ort.NewShape(int64(n), 2), out)
				if err != nil {
					b.Fatal(err)
				}
				if err := sess.Run([]ort.Value{in}, []ort.Value{res}); err != nil {
					b.Fatal(err)
				}
				_ = in.Destroy()
				_ = res.Destroy()
			}
		})
	}
}
