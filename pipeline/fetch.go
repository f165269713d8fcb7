package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/internal/backoff"
)

// fetch hands each message the source fetched (blocking at the in-flight
// cap) to the decode worker that owns its partition. It closes the decode
// channels when ctx ends.
func (w *Worker) fetch(ctx context.Context) error {
	defer func() {
		for _, c := range w.decodeIn {
			close(c)
		}
	}()
	bo := backoff.New(50*time.Millisecond, 5*time.Second)
	for {
		msg, err := w.source.Next(ctx)
		if err != nil {
			// ctx ended or the source closed: what was not handed out is
			// fetched again by whoever reads its partition next.
			if ctx.Err() != nil || errors.Is(err, consumers.ErrClosed) {
				return nil
			}
			w.log.Warn("fetching", "err", err, "retry_in", bo.Next())
			if !bo.Wait(ctx) {
				return nil
			}
			continue
		}
		bo.Reset()
		ev := &event{msg: msg, fetched: time.Now()}
		w.decodeIn[int(msg.Partition)%len(w.decodeIn)] <- ev
	}
}
