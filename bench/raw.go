package bench

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// raw measures ONNX Runtime alone: Infer on pre-filled tensors of n rows,
// repeated for d, in rows per second.
func raw(ctx context.Context, m *inference.Model, n int, d time.Duration) (float64, error) {
	rows := make([]float32, n*m.Width())
	r := rand.New(rand.NewPCG(5, 6))
	for i := range rows {
		rows[i] = float32(r.NormFloat64())
	}
	out := make([]float32, n*m.OutWidth())
	// One call first so first-run allocations are not measured.
	if _, err := m.Infer(ctx, rows, n, out); err != nil {
		return 0, err
	}
	done := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := m.Infer(ctx, rows, n, out); err != nil {
			return 0, err
		}
		done += n
	}
	return float64(done) / time.Since(start).Seconds(), nil
}
