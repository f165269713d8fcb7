package drift

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stateTTL is how long a model version's window state (sequence, epoch)
// outlives its last flush.
const stateTTL = 7 * 24 * time.Hour

// Flush sends the counts observed since the last flush to the group's open
// window in one Redis round trip, then evaluates any window it closed. It
// checks the window clock even when nothing was observed. When Redis
// cannot be reached the counts are kept (up to one window of events, then
// dropped and reported as lost) and the window they finally land in is
// reported incomplete. Run calls it; it is safe for concurrent use.
func (m *Monitor) Flush(ctx context.Context) error {
	closed, err := m.flush(ctx)
	if err != nil {
		return err
	}
	return m.evaluateAll(ctx, closed)
}

// evaluateAll evaluates the windows this worker closed; those that fail
// are retried on the next tick (or by another worker's sweep).
func (m *Monitor) evaluateAll(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := m.evaluate(ctx, id); err != nil {
			errs = append(errs, err)
			m.umu.Lock()
			if !slices.Contains(m.unfinished, id) {
				m.unfinished = append(m.unfinished, id)
			}
			m.umu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// retryUnfinished evaluates again the windows whose evaluation failed.
func (m *Monitor) retryUnfinished(ctx context.Context) error {
	m.umu.Lock()
	ids := m.unfinished
	m.unfinished = nil
	m.umu.Unlock()
	return m.evaluateAll(ctx, ids)
}

func (m *Monitor) flush(ctx context.Context) ([]string, error) {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	m.mu.Lock()
	full := m.acc
	m.acc = m.spare
	m.mu.Unlock()
	p := m.pending
	p.n += full.n
	for i, v := range full.c {
		p.c[i] += v
	}
	full.reset()
	m.spare = full

	now := m.now()
	args := make([]any, 0, 15)
	retry := "0"
	if m.retry {
		retry = "1"
	}
	args = append(args, m.keys.prefix, now.UnixMilli(), m.cfg.WindowEvents,
		m.cfg.WindowDuration.Milliseconds(), m.cfg.MinWindowEvents, m.worker, p.n, m.lost,
		retry, m.fp, m.epoch, randomHex(4), m.cfg.WindowTTL.Milliseconds(), stateTTL.Milliseconds())
	args = append(args, packCounts(p.c))
	rctx, cancel := context.WithTimeout(ctx, m.cfg.RedisTimeout)
	defer cancel()
	res, err := flushScript.Run(rctx, m.rdb, []string{m.keys.state, m.keys.closed}, args...).StringSlice()
	if err != nil {
		if ctx.Err() == nil { // not our own cancellation: Redis failed
			m.flushFailed(err)
		}
		return nil, fmt.Errorf("flushing drift counts: %w", err)
	}
	if m.down {
		m.log.Info("drift: redis reachable again, counts flushed", "events", p.n, "lost_events", m.lost)
	}
	m.down, m.retry, m.lost = false, false, 0
	p.reset()
	m.epoch = res[0]
	return res[1:], nil
}

// packCounts writes c as comma-separated decimal integers, the form the
// flush script keeps a worker's counts of a window in.
func packCounts(c []int64) string {
	b := make([]byte, 0, 4*len(c))
	for i, v := range c {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(b)
}

// flushFailed keeps the pending counts for the next try; when a failure
// follows another and they hold a whole window of events, it drops them
// as lost, so that one window does not absorb an outage's worth of
// traffic. Called with flushMu held.
func (m *Monitor) flushFailed(err error) {
	m.met.flushError()
	switch {
	case strings.Contains(err.Error(), "profile differs"):
		m.log.Error("drift: workers of this model version use different profiles; counts kept for a window that uses ours", "err", err)
	case !m.down:
		m.log.Warn("drift: cannot flush counts to redis; counting locally, window will be reported incomplete", "err", err)
	}
	if p := m.pending; m.retry && p.n >= int64(m.cfg.WindowEvents) {
		m.lost += p.n
		p.reset()
	}
	m.down, m.retry = true, true
}
