package inference

import (
	"context"
	"time"
)

// Batcher reads items from in and sends them to out in batches, by a Policy
// built from its BatchConfig: a batch leaves when it is full or when the
// oldest item in it has waited MaxDelay. With Dispatch idle (the default)
// a partial batch also leaves as soon as in holds no more items and out
// takes it at once: give it an unbuffered out, so that "takes it" means the
// next stage is waiting, and batches form only while that stage is busy.
//
// Shutdown: when in is closed, Run sends what is left (waiting for out
// unless ctx ends) and returns nil. When ctx ends, Run offers what is left
// to out without waiting: a buffered out with room, or a receiver already
// waiting, takes it; otherwise it is dropped. Dropping is safe under
// at-least-once delivery, since nothing in that batch has been acknowledged
// and its offsets will be read again; waiting could block shutdown forever
// on a downstream stage that has already stopped. A batch that Run was
// blocked sending when ctx ended is dropped the same way.
//
// Run closes out when it returns: the Batcher is out's only sender. A
// Batcher is not safe for concurrent use; its one Run owns it.
type Batcher[T any] struct {
	cfg     BatchConfig
	in      <-chan T
	out     chan<- []T
	partial chan<- []T // where a partial batch is offered (Dispatch idle)
}

// NewBatcher returns a Batcher from in to out; zero fields of cfg take their
// defaults. Run it once.
func NewBatcher[T any](cfg BatchConfig, in <-chan T, out chan<- []T) *Batcher[T] {
	return &Batcher[T]{cfg: cfg, in: in, out: out, partial: out}
}

// OfferPartialOn makes Run offer a partial batch (Dispatch idle) on
// partial instead of out; full batches, those MaxDelay old and the last
// still go to out. A next stage of several runners then takes partial
// batches only while all of them are idle, and full ones whenever one is:
// under load, batches still grow while it is busy. partial should be
// unbuffered; Run never closes it. Call it before Run.
func (b *Batcher[T]) OfferPartialOn(partial chan<- []T) {
	b.partial = partial
}

// Run batches until in is closed or ctx ends, and returns nil then (an
// invalid BatchConfig is the only error). It starts no goroutines and
// closes out when it returns. It must be called once.
func (b *Batcher[T]) Run(ctx context.Context) error {
	defer close(b.out)
	if err := b.cfg.Validate(); err != nil {
		return err
	}
	cfg := b.cfg.WithDefaults()
	p := NewPolicy[T](cfg.MaxBatchSize, cfg.MaxDelay, time.Now)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	idle := cfg.Dispatch == DispatchIdle
	for {
		var due <-chan time.Time
		if d := p.UntilNext(); d >= 0 {
			if !armed {
				timer.Reset(d)
				armed = true
			}
			due = timer.C
		}
		// offer is out while a partial batch may leave early: the items
		// queued now are taken first, so a busy input still fills batches.
		var offer chan<- []T
		if idle && p.Len() > 0 && len(b.in) == 0 {
			offer = b.partial
		}
		select {
		case v, ok := <-b.in:
			if !ok {
				b.send(ctx, p.Flush())
				return nil
			}
			if !p.Add(v) {
				continue
			}
			timer.Stop()
			armed = false
			if !b.send(ctx, p.Flush()) {
				return nil
			}
		case offer <- p.Pending():
			p.Flush()
			timer.Stop()
			armed = false
		case <-due:
			armed = false
			if p.UntilNext() == 0 && !b.send(ctx, p.Flush()) {
				return nil
			}
		case <-ctx.Done():
			if batch := p.Flush(); batch != nil {
				select {
				case b.out <- batch:
				default:
				}
			}
			return nil
		}
	}
}

// send waits for out to take batch, and reports false if ctx ended first.
func (b *Batcher[T]) send(ctx context.Context, batch []T) bool {
	if batch == nil {
		return true
	}
	select {
	case b.out <- batch:
		return true
	case <-ctx.Done():
		select { // a receiver already waiting still gets it
		case b.out <- batch:
		default:
		}
		return false
	}
}
