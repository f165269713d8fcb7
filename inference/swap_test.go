package inference_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/inference"
)

func TestSwapperEmpty(t *testing.T) {
	s := inference.NewSwapper(nil)
	closeSwapper(t, s)
	m, release := s.Acquire()
	release()
	if m != nil || s.Current() != nil {
		t.Fatalf("empty swapper served %v", m)
	}
	if err := s.Swap(t.Context(), nil); err == nil {
		t.Fatal("Swap(nil) succeeded")
	}
	m1 := loadSwapModel(t, 1)
	if err := s.Swap(t.Context(), m1); err != nil {
		t.Fatal(err)
	}
	if got := s.Current(); got != m1 {
		t.Fatalf("Current = %v after Swap", got)
	}
	if err := s.Swap(t.Context(), m1); err == nil {
		t.Fatal("swapping in the model already served succeeded")
	}
}

// TestSwapperDrain holds the old model across a Swap: new acquisitions get
// the new model at once, the old one keeps working until it is released,
// and only then is it closed and Swap returns.
func TestSwapperDrain(t *testing.T) {
	m1, m2 := loadSwapModel(t, 1), loadSwapModel(t, 2)
	s := inference.NewSwapper(m1)
	closeSwapper(t, s)
	row := make([]float32, m1.Width())

	held, release := s.Acquire()
	if held != m1 {
		t.Fatalf("Acquire = version %s, want 1", held.Version())
	}
	swapped := make(chan error, 1)
	go func() { swapped <- s.Swap(context.Background(), m2) }()

	deadline := time.Now().Add(5 * time.Second)
	for s.Current() != m2 {
		if time.Now().After(deadline) {
			t.Fatal("Swap did not publish the new model")
		}
		time.Sleep(time.Millisecond)
	}
	got, rel2 := s.Acquire()
	if got != m2 {
		t.Fatalf("Acquire after Swap = version %s, want 2", got.Version())
	}
	rel2()
	select {
	case err := <-swapped:
		t.Fatalf("Swap returned (%v) while the old model was held", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := held.Infer(t.Context(), row, 1, nil); err != nil {
		t.Fatalf("held model stopped working before release: %v", err)
	}
	release()
	select {
	case err := <-swapped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Swap did not return after the last holder released")
	}
	if _, err := m1.Infer(t.Context(), row, 1, nil); !errors.Is(err, inference.ErrClosed) {
		t.Fatalf("old model after drain: Infer err = %v, want ErrClosed", err)
	}
}

// TestSwapperDrainContext ends the Swap's context while a holder keeps the
// old model: Swap returns, and the model is closed once released.
func TestSwapperDrainContext(t *testing.T) {
	m1, m2 := loadSwapModel(t, 1), loadSwapModel(t, 2)
	s := inference.NewSwapper(m1)
	held, release := s.Acquire()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Swap(ctx, m2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Swap err = %v, want deadline exceeded", err)
	}
	row := make([]float32, held.Width())
	if _, err := held.Infer(t.Context(), row, 1, nil); err != nil {
		t.Fatalf("held model: %v", err)
	}
	release()
	if err := s.Close(); err != nil { // waits for the background close
		t.Fatal(err)
	}
	for _, m := range []*inference.Model{m1, m2} {
		if _, err := m.Infer(t.Context(), row, 1, nil); !errors.Is(err, inference.ErrClosed) {
			t.Fatalf("version %s after Close: err = %v, want ErrClosed", m.Version(), err)
		}
	}
	if m, _ := s.Acquire(); m != nil {
		t.Fatal("Acquire after Close returned a model")
	}
	m3 := loadSwapModel(t, 3)
	defer m3.Close()
	if err := s.Swap(t.Context(), m3); !errors.Is(err, inference.ErrSwapperClosed) {
		t.Fatalf("Swap after Close: %v, want ErrSwapperClosed", err)
	}
}

// TestSwapperConcurrent runs inference from many goroutines while models
// are swapped under them: no call may ever see a closed model, every
// swapped-out model ends closed, and the callers see the versions in order.
func TestSwapperConcurrent(t *testing.T) {
	const swaps = 12
	s := inference.NewSwapper(loadSwapModel(t, 0))
	closeSwapper(t, s)
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var calls atomic.Int64
	errc := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]float32, 26)
			out := make([]float32, 0, 2)
			last := -1
			key := []byte(fmt.Sprintf("k%d", g))
			for ctx.Err() == nil {
				m, release := s.AcquireFor(key)
				var err error
				out, err = m.Infer(context.Background(), row, 1, out)
				v := 0
				fmt.Sscan(m.Version(), &v)
				release()
				if err != nil {
					errc <- fmt.Errorf("version %s: %w", m.Version(), err)
					return
				}
				if v < last {
					errc <- fmt.Errorf("saw version %d after %d", v, last)
					return
				}
				last = v
				calls.Add(1)
			}
		}()
	}
	old := s.Current()
	for v := 1; v <= swaps; v++ {
		next := loadSwapModel(t, v)
		before := calls.Load()
		if err := s.Swap(t.Context(), next); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Infer(t.Context(), make([]float32, 26), 1, nil); !errors.Is(err, inference.ErrClosed) {
			t.Fatalf("version %s not closed after its Swap returned: %v", old.Version(), err)
		}
		old = next
		for calls.Load() < before+50 && len(errc) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	stop()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Logf("%d inferences across %d swaps", calls.Load(), swaps)
}
