package testkit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/internal/redisproc"
)

// Redis is a real redis-server child process on a free loopback port
// (internal/redisproc, as the bench and the dev stack run theirs), with no
// persistence.
type Redis struct {
	Addr string
	// URL is redis://[:password@]addr/0.
	URL string

	t        testing.TB
	password string
	srv      *redisproc.Server
}

// RedisOption changes how StartRedis runs the server.
type RedisOption func(*Redis)

// WithPassword sets requirepass on the server and puts it in URL.
func WithPassword(p string) RedisOption { return func(r *Redis) { r.password = p } }

// StartRedis starts redis-server on a free port with its files in a
// temporary directory and stops it when the test ends. It fails the test
// with a clear message when redis-server is not installed (`make test`
// installs it).
func StartRedis(t testing.TB, opts ...RedisOption) *Redis {
	t.Helper()
	r := &Redis{t: t}
	for _, o := range opts {
		o(r)
	}
	srv, err := redisproc.Start(context.Background(), redisproc.Options{Dir: t.TempDir(), Password: r.password, StartTimeout: 10 * time.Second})
	if errors.Is(err, redisproc.ErrNotInstalled) {
		t.Fatalf("testkit: redis-server is not installed (make test installs it with apt-get as root; or apt-get install redis-server)")
	}
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	r.srv, r.Addr, r.URL = srv, srv.Addr, srv.URL
	t.Cleanup(r.Stop)
	return r
}

// Start starts the server again, on the same port, after Kill or Stop,
// and waits until it answers PING.
func (r *Redis) Start() {
	r.t.Helper()
	if err := r.srv.Restart(context.Background()); err != nil {
		r.t.Fatalf("testkit: restarting redis-server: %v", err)
	}
}

// Kill sends SIGKILL to the server and waits until it has exited (a Redis
// outage).
func (r *Redis) Kill() { r.srv.Kill() }

// Stop kills the server; it is registered as test cleanup.
func (r *Redis) Stop() { r.srv.Kill() }

// Client returns a go-redis client for the server, closed when the test ends.
func (r *Redis) Client() *redis.Client {
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		r.t.Fatalf("testkit: %v", err)
	}
	c := redis.NewClient(opt)
	r.t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		r.t.Fatalf("testkit: redis ping: %v", err)
	}
	return c
}
