package inference

import (
	"slices"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1700000000, 0)} }

func TestPolicySizeFlush(t *testing.T) {
	clock := newFakeClock()
	p := NewPolicy[int](3, time.Second, clock.now)
	for i, wantFull := range []bool{false, false, true} {
		if full := p.Add(i); full != wantFull {
			t.Fatalf("Add(%d) = %v, want %v", i, full, wantFull)
		}
	}
	if got := p.Flush(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("Flush() = %v", got)
	}
	if p.Len() != 0 || p.UntilNext() >= 0 || p.Flush() != nil {
		t.Fatalf("after flush: len %d, until %v", p.Len(), p.UntilNext())
	}
}

func TestPolicyTimeFlush(t *testing.T) {
	clock := newFakeClock()
	p := NewPolicy[string](10, 5*time.Millisecond, clock.now)
	if d := p.UntilNext(); d >= 0 {
		t.Fatalf("UntilNext() of an empty policy = %v, want < 0", d)
	}
	p.Add("a")
	if d := p.UntilNext(); d != 5*time.Millisecond {
		t.Fatalf("UntilNext() = %v, want 5ms", d)
	}
	clock.advance(3 * time.Millisecond)
	p.Add("b") // a later item does not move the deadline
	if d := p.UntilNext(); d != 2*time.Millisecond {
		t.Fatalf("UntilNext() = %v, want 2ms", d)
	}
	clock.advance(4 * time.Millisecond)
	if d := p.UntilNext(); d != 0 {
		t.Fatalf("UntilNext() past the deadline = %v, want 0", d)
	}
	first := p.Flush()
	p.Add("c") // the next batch's clock starts at its first item
	if d := p.UntilNext(); d != 5*time.Millisecond {
		t.Fatalf("UntilNext() of a new batch = %v, want 5ms", d)
	}
	if !slices.Equal(first, []string{"a", "b"}) {
		t.Fatalf("Flush() = %v", first)
	}
}

func TestPolicyShutdownFlush(t *testing.T) {
	clock := newFakeClock()
	p := NewPolicy[int](4, time.Hour, clock.now)
	p.Add(1)
	p.Add(2)
	// Shutting down: what is waiting is flushed, full or not, due or not.
	got := p.Flush()
	if !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Flush() = %v", got)
	}
	p.Add(3) // the flushed batch is not shared with the next one
	if !slices.Equal(got, []int{1, 2}) || cap(got) == 0 {
		t.Fatalf("flushed batch changed to %v", got)
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := NewPolicy[int](0, time.Millisecond, nil)
	if !p.Add(1) {
		t.Fatal("maxSize 0 is not taken as 1")
	}
	if d := p.UntilNext(); d < 0 || d > time.Millisecond {
		t.Fatalf("UntilNext() with the real clock = %v", d)
	}
}

func TestBatchConfig(t *testing.T) {
	d := BatchConfig{}.WithDefaults()
	if d.MaxBatchSize != 256 || d.MaxDelay != 2*time.Millisecond || d.Dispatch != DispatchIdle {
		t.Fatalf("defaults = %+v", d)
	}
	if c := (BatchConfig{MaxBatchSize: 8, MaxDelay: time.Second}).WithDefaults(); c.MaxBatchSize != 8 || c.MaxDelay != time.Second {
		t.Fatalf("WithDefaults changed set fields: %+v", c)
	}
	for _, bad := range []BatchConfig{{MaxBatchSize: -1}, {MaxBatchSize: 1 << 20}, {MaxDelay: -time.Millisecond}, {Dispatch: "soon"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	if err := (BatchConfig{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
}
