package schemas

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sluice-ml/sluice/internal/backoff"
)

// DecodeWaiting is Decode for a service that must not give up on a record
// while the registry is down: an error matching ErrRegistryUnavailable is
// logged to log and the decode tried again with backoff (250ms doubling to
// 10s) until it passes or ctx ends (ctx.Err() then). Any other error is the
// record's. Safe for concurrent use.
func (d *Decoder) DecodeWaiting(ctx context.Context, framed []byte, log *slog.Logger) (map[string]any, error) {
	bo := backoff.New(250*time.Millisecond, 10*time.Second)
	for {
		rec, _, err := d.Decode(ctx, framed)
		if !errors.Is(err, ErrRegistryUnavailable) {
			return rec, err
		}
		log.Warn("schema registry unavailable; retrying", "err", err, "retry_in", bo.Next())
		if !bo.Wait(ctx) {
			return nil, ctx.Err()
		}
	}
}
