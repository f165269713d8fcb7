package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/alicebob/miniredis/v2"

	"github.com/sluice-ml/sluice/internal/redisproc"
)

// redisChild is the Redis the dev stack owns.
type redisChild struct {
	URL  string
	stop func()
}

// startRedis runs redis-server with its data under dir (append-only file
// and snapshots, so a restart keeps schema ids and models; it never
// outlives the stack, and one a crashed run left behind is replaced), or
// an in-process stand-in (with a loud warning) when redis-server is not
// installed.
func startRedis(ctx context.Context, dir string, log *slog.Logger) (*redisChild, error) {
	s, err := redisproc.Start(ctx, redisproc.Options{Dir: dir, Persist: true, ReplaceLeftover: true, Logger: log})
	if errors.Is(err, redisproc.ErrNotInstalled) {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, fmt.Errorf("starting in-process redis: %w", err)
		}
		log.Warn("redis-server is not installed: using an IN-PROCESS Redis stand-in; schema ids and models will NOT survive a restart (apt-get install redis-server, or pass --redis-url)")
		return &redisChild{URL: "redis://" + mr.Addr() + "/0", stop: mr.Close}, nil
	}
	if err != nil {
		return nil, err
	}
	return &redisChild{URL: s.URL, stop: s.Stop}, nil
}
