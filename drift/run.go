package drift

import (
	"context"
	"time"
)

// sweepEvery is how many flush intervals pass between sweeps for windows
// that their closer did not finish.
const sweepEvery = 5

// Run flushes counts every FlushInterval (sooner after FlushEvents local
// events), evaluates the windows its flushes close, and sweeps for closed
// windows other workers left unfinished. Errors are logged (and counted)
// and retried on the next tick: Observe never waits for Redis. When ctx is
// cancelled it makes a last flush, bounded by RedisTimeout, and returns
// nil. Call Run once per Monitor.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.FlushInterval)
	defer t.Stop()
	ticks := 0
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.RedisTimeout)
			m.logErr(fctx, m.Flush(fctx))
			m.logErr(fctx, m.retryUnfinished(fctx))
			cancel()
			return nil
		case <-m.kick:
			m.adapt(time.Now())
			m.bounded(ctx, func(c context.Context) error { return m.Flush(c) })
		case now := <-t.C:
			m.adapt(now)
			m.bounded(ctx, func(c context.Context) error { return m.Flush(c) })
			m.bounded(ctx, m.retryUnfinished)
			if ticks++; ticks%sweepEvery == 0 {
				m.bounded(ctx, m.sweep)
			}
		}
	}
}

// logErr logs evaluation and sweep errors, unless ctx was cancelled or
// Redis is down (flushFailed logs an outage once).
func (m *Monitor) logErr(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil && !m.isDown() {
		m.log.Warn("drift: evaluating windows", "err", err)
	}
}

func (m *Monitor) isDown() bool {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	return m.down
}

// bounded runs one Redis step with a context that Run's cancellation does
// not cut short (only RedisTimeout does): a flush whose script already ran
// on the server must learn which windows it closed, or they would go
// unreported until another worker's sweep.
func (m *Monitor) bounded(ctx context.Context, step func(context.Context) error) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.RedisTimeout)
	defer cancel()
	if err := step(c); err != nil && ctx.Err() == nil {
		m.logErr(c, err)
	}
}
