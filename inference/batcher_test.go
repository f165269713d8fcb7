package inference

import (
	"context"
	"slices"
	"testing"
	"time"
)

// runBatcher starts b.Run and returns a channel with its result.
func runBatcher[T any](ctx context.Context, b *Batcher[T]) <-chan error {
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	return done
}

func recvBatch[T any](t *testing.T, out <-chan []T, within time.Duration) []T {
	t.Helper()
	select {
	case b, ok := <-out:
		if !ok {
			t.Fatal("out closed")
		}
		return b
	case <-time.After(within):
		t.Fatalf("no batch within %v", within)
		return nil
	}
}

func waitDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestBatcherSizeFlush(t *testing.T) {
	in, out := make(chan int), make(chan []int, 2)
	done := runBatcher(t.Context(), NewBatcher(BatchConfig{MaxBatchSize: 3, MaxDelay: time.Hour, Dispatch: DispatchDelay}, in, out))
	for i := range 7 {
		in <- i
	}
	if b := recvBatch(t, out, time.Second); !slices.Equal(b, []int{0, 1, 2}) {
		t.Fatalf("first batch = %v", b)
	}
	if b := recvBatch(t, out, time.Second); !slices.Equal(b, []int{3, 4, 5}) {
		t.Fatalf("second batch = %v", b)
	}
	close(in) // flushes the partial batch
	if b := recvBatch(t, out, time.Second); !slices.Equal(b, []int{6}) {
		t.Fatalf("last batch = %v", b)
	}
	waitDone(t, done)
	if _, ok := <-out; ok {
		t.Fatal("out not closed after Run")
	}
}

func TestBatcherTimeFlush(t *testing.T) {
	in, out := make(chan int), make(chan []int)
	const delay = 20 * time.Millisecond
	done := runBatcher(t.Context(), NewBatcher(BatchConfig{MaxBatchSize: 100, MaxDelay: delay, Dispatch: DispatchDelay}, in, out))
	for round := range 3 {
		start := time.Now()
		in <- round
		in <- round + 10
		b := recvBatch(t, out, time.Second)
		if waited := time.Since(start); waited < delay {
			t.Fatalf("batch after %v, before MaxDelay %v", waited, delay)
		}
		if !slices.Equal(b, []int{round, round + 10}) {
			t.Fatalf("batch = %v", b)
		}
	}
	close(in)
	waitDone(t, done)
}

func TestBatcherCloseInFlushes(t *testing.T) {
	in, out := make(chan string, 3), make(chan []string, 1)
	in <- "a"
	in <- "b"
	close(in)
	err := NewBatcher(BatchConfig{MaxBatchSize: 10, MaxDelay: time.Hour, Dispatch: DispatchDelay}, in, out).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if b := <-out; !slices.Equal(b, []string{"a", "b"}) {
		t.Fatalf("batch = %v", b)
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

func TestBatcherCancelFlushesWhenOutHasRoom(t *testing.T) {
	in, out := make(chan int), make(chan []int, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := runBatcher(ctx, NewBatcher(BatchConfig{MaxBatchSize: 10, MaxDelay: time.Hour, Dispatch: DispatchDelay}, in, out))
	in <- 1
	in <- 2
	cancel()
	waitDone(t, done)
	if b := <-out; !slices.Equal(b, []int{1, 2}) {
		t.Fatalf("batch on cancel = %v", b)
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

func TestBatcherCancelDoesNotBlockOnFullOut(t *testing.T) {
	in, out := make(chan int), make(chan []int) // no one receives
	ctx, cancel := context.WithCancel(t.Context())
	done := runBatcher(ctx, NewBatcher(BatchConfig{MaxBatchSize: 2, MaxDelay: time.Hour, Dispatch: DispatchDelay}, in, out))
	in <- 1
	in <- 2 // a full batch: Run now blocks sending it
	cancelled := make(chan struct{})
	go func() { defer close(cancelled); time.Sleep(10 * time.Millisecond); cancel() }()
	waitDone(t, done) // returns although out never took the batch
	<-cancelled
	if _, ok := <-out; ok {
		t.Fatal("out got a batch or was not closed")
	}
}

func TestBatcherInvalidConfig(t *testing.T) {
	in, out := make(chan int), make(chan []int)
	if err := NewBatcher(BatchConfig{MaxBatchSize: -1}, in, out).Run(t.Context()); err == nil {
		t.Fatal("Run with a negative batch size succeeded")
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

func TestBatcherDefaults(t *testing.T) {
	in, out := make(chan int, 300), make(chan []int, 2)
	for i := range 300 {
		in <- i
	}
	close(in)
	// Default size; MaxDelay long, so that a slow machine (-race) cannot
	// cut the first batch short by the clock.
	if err := NewBatcher(BatchConfig{MaxDelay: time.Hour}, in, out).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if a, b := <-out, <-out; len(a) != 256 || len(b) != 44 {
		t.Fatalf("batches of %d and %d, want 256 and 44", len(a), len(b))
	}
}

// With dispatch idle and an unbuffered out, an item reaching an idle
// batcher whose receiver is waiting leaves at once, not after MaxDelay.
func TestBatcherIdleDispatchesAtOnce(t *testing.T) {
	in, out := make(chan int), make(chan []int)
	done := runBatcher(t.Context(), NewBatcher(BatchConfig{MaxBatchSize: 100, MaxDelay: time.Hour}, in, out))
	for round := range 3 {
		in <- round
		if b := recvBatch(t, out, 2*time.Second); !slices.Equal(b, []int{round}) {
			t.Fatalf("round %d: batch = %v", round, b)
		}
	}
	close(in)
	waitDone(t, done)
}

// While the receiver is busy, items gather into one batch, which leaves
// when the receiver comes back (long before MaxDelay).
func TestBatcherIdleGathersWhileBusy(t *testing.T) {
	in, out := make(chan int), make(chan []int)
	done := runBatcher(t.Context(), NewBatcher(BatchConfig{MaxBatchSize: 100, MaxDelay: time.Hour}, in, out))
	for i := range 10 {
		in <- i // nobody receives yet: the batcher keeps them
	}
	if b := recvBatch(t, out, 2*time.Second); !slices.Equal(b, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("batch = %v", b)
	}
	close(in)
	waitDone(t, done)
}

// Items already queued on in are taken before a partial batch is offered,
// so a backlog makes full batches even when the receiver is waiting.
func TestBatcherIdleDrainsQueuedFirst(t *testing.T) {
	in, out := make(chan int, 10), make(chan []int)
	for i := range 10 {
		in <- i
	}
	done := runBatcher(t.Context(), NewBatcher(BatchConfig{MaxBatchSize: 4, MaxDelay: time.Hour}, in, out))
	var sizes []int
	for range 3 {
		sizes = append(sizes, len(recvBatch(t, out, 2*time.Second)))
	}
	if !slices.Equal(sizes, []int{4, 4, 2}) {
		t.Fatalf("batch sizes %v, want [4 4 2]", sizes)
	}
	close(in)
	waitDone(t, done)
}

// With OfferPartialOn, a partial batch is offered on its own channel and a
// full one goes to out: a receiver on out alone gets only full batches,
// and the items gather meanwhile.
func TestBatcherOffersPartialBatchesApart(t *testing.T) {
	in, out, partial := make(chan int), make(chan []int), make(chan []int)
	b := NewBatcher(BatchConfig{MaxBatchSize: 4, MaxDelay: time.Hour}, in, out)
	b.OfferPartialOn(partial)
	done := runBatcher(t.Context(), b)
	in <- 0
	if got := recvBatch(t, partial, 2*time.Second); !slices.Equal(got, []int{0}) {
		t.Fatalf("partial batch = %v, want [0]", got)
	}
	for i := 1; i <= 4; i++ {
		in <- i // nobody takes the partial offer: they gather
	}
	if got := recvBatch(t, out, 2*time.Second); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("full batch = %v, want [1 2 3 4]", got)
	}
	in <- 5
	select {
	case got := <-out:
		t.Fatalf("a partial batch %v went to out", got)
	case got := <-partial:
		if !slices.Equal(got, []int{5}) {
			t.Fatalf("partial batch = %v, want [5]", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the partial batch was not offered")
	}
	close(in)
	waitDone(t, done)
}
