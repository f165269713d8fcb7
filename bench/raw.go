package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

// raw measures ONNX Runtime alone: Infer on pre-filled tensors of n rows,
// repeated for d by one caller per session of m (so that every session is
// busy, as the pipeline keeps them), in rows per second.
func raw(ctx context.Context, m *inference.Model, n int, d time.Duration) (float64, error) {
	callers := m.Sessions()
	rates := make([]float64, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { rates[i], errs[i] = rawCaller(ctx, m, n, d, uint64(i)) })
	}
	wg.Wait()
	sum := 0.0
	for i := range rates {
		if errs[i] != nil {
			return 0, errs[i]
		}
		sum += rates[i]
	}
	return sum, nil
}

// rawCaller is one of raw's callers.
func rawCaller(ctx context.Context, m *inference.Model, n int, d time.Duration, seed uint64) (float64, error) {
	rows := make([]float32, n*m.Width())
	r := rand.New(rand.NewPCG(5, 6+seed))
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
