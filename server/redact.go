package server

import (
	"context"
	"log/slog"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/security"
)

// Run starts one worker and its admin server and blocks until ctx ends and
// both have shut down. onReady (may be nil) is called once the model is
// loaded and the admin server listens. cfg's secrets (passwords, password
// files' contents, the passwords in redis.url and registry.url) are
// redacted from everything the worker logs through log and from the error
// it returns.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, onReady func(Ready)) error {
	red := security.RedactorFor(cfg)
	return red.Error(run(ctx, cfg, red.Logger(log), onReady))
}
