package devstack

import (
	"log/slog"
	"testing"
)

// `sluice dev` run with its default, relative data dir (.sluice) starts
// its redis-server, whose working directory is that dir.
func TestRedisChildRelativeDataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	rc, err := startRedis(t.Context(), ".sluice/redis", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rc.stop()
}
