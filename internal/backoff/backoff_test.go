package backoff

import (
	"context"
	"testing"
	"time"
)

func TestPolicyDelay(t *testing.T) {
	p := Policy{First: 100 * time.Millisecond, Max: time.Second}
	for _, c := range []struct {
		failures int
		want     time.Duration
	}{
		{-1, 100 * time.Millisecond}, {0, 100 * time.Millisecond}, {1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond}, {3, 400 * time.Millisecond}, {4, 800 * time.Millisecond},
		{5, time.Second}, {60, time.Second}, {1 << 30, time.Second},
	} {
		if got := p.Delay(c.failures); got != c.want {
			t.Errorf("Delay(%d) = %s, want %s", c.failures, got, c.want)
		}
	}
	if got := (Policy{First: time.Second, Max: time.Millisecond}).Delay(3); got != time.Second {
		t.Errorf("Max below First: Delay = %s, want First (1s)", got)
	}
}

func TestBackoffWaitResets(t *testing.T) {
	b := New(time.Millisecond, 4*time.Millisecond)
	var got []time.Duration
	for range 4 {
		got = append(got, b.Next())
		if !b.Wait(t.Context()) {
			t.Fatal("Wait returned false with a live context")
		}
	}
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	if b.Failures() != 4 {
		t.Errorf("Failures = %d, want 4", b.Failures())
	}
	b.Reset()
	if b.Next() != time.Millisecond || b.Failures() != 0 {
		t.Errorf("after Reset: Next %s, Failures %d", b.Next(), b.Failures())
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep reported a full wait on a cancelled context")
	}
	if New(time.Hour, time.Hour).Wait(ctx) {
		t.Error("Wait reported a full wait on a cancelled context")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %s", d)
	}
	if !Sleep(t.Context(), time.Millisecond) {
		t.Error("Sleep(1ms) reported an early end")
	}
}
