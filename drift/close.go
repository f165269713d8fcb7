package drift

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// evaluate takes the close lock of window id and, if it got it and the
// window still awaits evaluation, tests it, emits its report, updates the
// retrain decision and marks it done. If any step fails the lock expires
// after CloseLease and some worker's sweep retries the whole window
// (consumers may see a report twice; its window id tells them).
func (m *Monitor) evaluate(ctx context.Context, id string) error {
	rctx, cancel := context.WithTimeout(ctx, m.cfg.RedisTimeout)
	defer cancel()
	ok, err := m.rdb.SetNX(rctx, m.keys.lock(id), m.worker, m.cfg.CloseLease).Result()
	if err != nil {
		return fmt.Errorf("locking window %s: %w", id, err)
	}
	if !ok {
		return nil
	}
	if err := m.rdb.ZScore(rctx, m.keys.closed, id).Err(); errors.Is(err, redis.Nil) {
		return nil // evaluated already
	} else if err != nil {
		return fmt.Errorf("reading closed windows: %w", err)
	}
	fields, err := m.rdb.HGetAll(rctx, m.keys.window(id)).Result()
	if err != nil {
		return fmt.Errorf("reading window %s: %w", id, err)
	}
	cancel()
	if len(fields) == 0 {
		m.log.Warn("drift: closed window expired before evaluation", "window", id)
		return m.done(ctx, id)
	}
	w := parseWindow(fields, m.lay.bins, m.fp)
	if !w.fingerprintOK {
		m.log.Warn("drift: window was binned with another profile; skipped", "window", id)
		return m.done(ctx, id)
	}
	r := m.evaluateCounts(id, w)
	if err := m.sink.Emit(ctx, m.cfg.ReportsTopic, m.model, reportNative(r), DriftReportSchema); err != nil {
		return fmt.Errorf("emitting drift report: %w", err)
	}
	m.met.window(r)
	if !r.Incomplete {
		if err := m.decide(ctx, r); err != nil {
			return err
		}
	}
	return m.done(ctx, id)
}

// done removes window id from the closed set and its counts, and keeps its
// lock as a done marker until WindowTTL.
func (m *Monitor) done(ctx context.Context, id string) error {
	rctx, cancel := context.WithTimeout(ctx, m.cfg.RedisTimeout)
	defer cancel()
	_, err := m.rdb.TxPipelined(rctx, func(p redis.Pipeliner) error {
		p.ZRem(rctx, m.keys.closed, id)
		p.Del(rctx, m.keys.window(id))
		p.PExpire(rctx, m.keys.lock(id), m.cfg.WindowTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("marking window %s done: %w", id, err)
	}
	return nil
}

// sweep evaluates closed windows that no worker finished: their closer
// died or failed. Windows closed less than a lease ago are left to their
// closer.
func (m *Monitor) sweep(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, m.cfg.RedisTimeout)
	defer cancel()
	before := m.now().Add(-m.cfg.CloseLease).UnixMilli()
	ids, err := m.rdb.ZRangeByScore(rctx, m.keys.closed, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before, 10), Count: 16,
	}).Result()
	if err != nil {
		return fmt.Errorf("listing closed windows: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := m.evaluate(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
