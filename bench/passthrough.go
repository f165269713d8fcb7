package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/producers"
)

// passthrough runs the worker's consume → produce → commit loop with the
// same reader, tracker, asynchronous writer and settings, copying each
// value unchanged: the broker-side limit of our stack. It returns events per
// second over n preloaded events.
func passthrough(ctx context.Context, e *env, n int, maxInFlight int) (runRate, error) {
	r, err := consumers.NewReader(consumers.ReaderConfig{Brokers: []string{e.addr}, Topic: "features", GroupID: fmt.Sprintf("passthrough-%d", time.Now().UnixNano())})
	if err != nil {
		return runRate{}, err
	}
	defer r.Close()
	tr := consumers.NewTracker(r, maxInFlight, nil)
	var acked atomic.Int64
	w, err := producers.NewAsyncWriter(producers.WriterConfig{Brokers: []string{e.addr}}, nil, func(msgs []kafka.Message, err error) {
		if err != nil {
			return
		}
		for i := range msgs {
			tr.Ack(msgs[i].WriterData.(kafka.Message))
		}
		acked.Add(int64(len(msgs)))
	})
	if err != nil {
		return runRate{}, err
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	committed := make(chan error, 1)
	go func() { committed <- tr.RunCommitter(ctx, 500*time.Millisecond) }()
	// The same stages as the worker minus decode and inference: fetch and
	// track, batch by the default policy, enqueue on the async writer.
	in := make(chan kafka.Message, 512)
	out := make(chan []kafka.Message, 2)
	go func() {
		defer close(in)
		for {
			msg, err := tr.Next(ctx)
			if err != nil {
				return
			}
			in <- msg
		}
	}()
	go func() { _ = inference.NewBatcher(inference.BatchConfig{}, in, out).Run(ctx) }()
	go func() {
		for batch := range out {
			msgs := make([]kafka.Message, len(batch))
			for i, m := range batch {
				msgs[i] = kafka.Message{Topic: "passthrough", Key: m.Key, Value: m.Value, WriterData: m}
			}
			if w.Enqueue(msgs...) != nil {
				return
			}
		}
	}()
	rate, err := measure(ctx, e, n, func() int64 { return acked.Load() })
	cancel()
	<-committed
	return rate, err
}

// runRate is what one timed run measured: events per second, and the CPU
// time per event this process and the env's Redis spent meanwhile.
type runRate struct {
	perS  float64
	cpuUS float64
}

// measure polls count until it reaches n and returns the rate between the
// first and the last observed progress, so group joins are not counted, and
// the CPU spent per event over the same span. For one worker this is its
// steady rate within a few percent (the rate between 10% and 90% of n came
// out 0.94-1.05 of it); where the workers hold many events in flight
// against n, the work done before the first completion is not timed, and
// measureWhole is the honest figure.
func measure(ctx context.Context, e *env, n int, count func() int64) (runRate, error) {
	return measureSpan(ctx, e, n, count, false)
}

// measureWhole is measure timed from its call, which the caller makes as
// the workers start fetching, rather than from the first progress.
func measureWhole(ctx context.Context, e *env, n int, count func() int64) (runRate, error) {
	return measureSpan(ctx, e, n, count, true)
}

func measureSpan(ctx context.Context, e *env, n int, count func() int64, whole bool) (runRate, error) {
	var t0 time.Time
	var c0 int64
	var cpu0 time.Duration
	start, cpuStart := time.Now(), e.cpu()
	if whole {
		t0, cpu0 = start, cpuStart
	}
	deadline := start.Add(5 * time.Minute)
	for {
		c := count()
		if c > 0 && t0.IsZero() {
			t0, c0, cpu0 = time.Now(), c, e.cpu()
		}
		if c >= int64(n) && c == c0 {
			// Everything was done by the first count seen (a small run, or
			// one batch acknowledged at once): time it from the start, the
			// group join included, rather than report nothing.
			t0, c0, cpu0 = start, 0, cpuStart
		}
		if c >= int64(n) {
			el := time.Since(t0).Seconds()
			if el <= 0 {
				el = 1e-3
			}
			r := runRate{perS: float64(c-c0) / el}
			if c > c0 {
				r.cpuUS = float64((e.cpu() - cpu0).Microseconds()) / float64(c-c0)
			}
			return r, nil
		}
		if time.Now().After(deadline) {
			return runRate{}, fmt.Errorf("only %d of %d events done in 5 minutes", c, n)
		}
		select {
		case <-ctx.Done():
			return runRate{}, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
