package inference_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/sluice-ml/sluice/inference"
)

// TestSwapperCanaryShare serves a canary to 20% of 10000 keys: its share
// is 20% ± 3%, each key always gets the same version, and keys in the
// canary stay there when the percentage grows.
func TestSwapperCanaryShare(t *testing.T) {
	prod, canary := loadSwapModel(t, 1), loadSwapModel(t, 2)
	s := inference.NewSwapper(prod)
	closeSwapper(t, s)
	if err := s.SetCanary(t.Context(), canary, 20); err != nil {
		t.Fatal(err)
	}
	if m, p := s.Canary(); m != canary || p != 20 {
		t.Fatalf("Canary() = %v, %v", m, p)
	}
	const keys = 10000
	inCanary := map[string]bool{}
	for i := range keys {
		key := []byte(fmt.Sprintf("card-%06d", i))
		m, release := s.AcquireFor(key)
		release()
		again, release := s.AcquireFor(key)
		release()
		if again != m {
			t.Fatalf("key %s served by version %s, then %s", key, m.Version(), again.Version())
		}
		inCanary[string(key)] = m == canary
	}
	n := 0
	for _, c := range inCanary {
		if c {
			n++
		}
	}
	share := float64(n) / keys
	t.Logf("canary share at 20%%: %.4f", share)
	if math.Abs(share-0.20) > 0.03 {
		t.Fatalf("canary served %.2f%% of keys, want 20%% ± 3%%", share*100)
	}

	// Same model, larger share: only the percentage changes, and no key
	// leaves the canary.
	if err := s.SetCanary(t.Context(), canary, 50); err != nil {
		t.Fatal(err)
	}
	for key, was := range inCanary {
		m, release := s.AcquireFor([]byte(key))
		release()
		if was && m != canary {
			t.Fatalf("key %s left the canary when it grew", key)
		}
	}
	row := make([]float32, 26)
	if _, err := canary.Infer(t.Context(), row, 1, nil); err != nil {
		t.Fatalf("canary closed by a percentage change: %v", err)
	}

	// Removing the canary drains and closes it; every key is production's.
	if err := s.SetCanary(t.Context(), nil, 0); err != nil {
		t.Fatal(err)
	}
	for key := range inCanary {
		m, release := s.AcquireFor([]byte(key))
		release()
		if m != prod {
			t.Fatalf("key %s served by version %s after the canary was removed", key, m.Version())
		}
	}
	if _, err := canary.Infer(t.Context(), row, 1, nil); !errors.Is(err, inference.ErrClosed) {
		t.Fatalf("removed canary: Infer err = %v, want ErrClosed", err)
	}
}

func TestSwapperShadow(t *testing.T) {
	prod, shadow := loadSwapModel(t, 1), loadSwapModel(t, 2)
	s := inference.NewSwapper(prod)
	closeSwapper(t, s)
	if m, _ := s.AcquireShadow([]byte("k")); m != nil {
		t.Fatal("shadow served with none set")
	}
	if err := s.SetShadow(t.Context(), shadow, 0.25); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range 10000 {
		m, release := s.AcquireShadow([]byte(fmt.Sprintf("card-%06d", i)))
		release()
		if m != nil {
			n++
		}
	}
	if share := float64(n) / 10000; math.Abs(share-0.25) > 0.03 {
		t.Fatalf("shadow scored %.2f%% of keys, want 25%% ± 3%%", share*100)
	}
}

func TestSwapperRouteErrors(t *testing.T) {
	prod, other := loadSwapModel(t, 1), loadSwapModel(t, 2)
	s := inference.NewSwapper(prod)
	closeSwapper(t, s)
	t.Cleanup(func() { other.Close() })
	tests := []struct {
		name string
		set  func() error
	}{
		{"canary over 100", func() error { return s.SetCanary(t.Context(), other, 101) }},
		{"canary zero", func() error { return s.SetCanary(t.Context(), other, 0) }},
		{"canary NaN", func() error { return s.SetCanary(t.Context(), other, math.NaN()) }},
		{"canary below a bucket", func() error { return s.SetCanary(t.Context(), other, 0.001) }},
		{"shadow over 1", func() error { return s.SetShadow(t.Context(), other, 1.5) }},
		{"production as canary", func() error { return s.SetCanary(t.Context(), prod, 10) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.set(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// The refused model is still the caller's and still works.
	if _, err := other.Infer(t.Context(), make([]float32, 26), 1, nil); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkSwapperAcquireFor(b *testing.B) {
	s := inference.NewSwapper(loadSwapModel(b, 1))
	closeSwapper(b, s)
	if err := s.SetCanary(b.Context(), loadSwapModel(b, 2), 20); err != nil {
		b.Fatal(err)
	}
	key := []byte("card-000123")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, release := s.AcquireFor(key)
			release()
		}
	})
}
