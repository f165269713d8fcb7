package testworker

import (
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/schemas"
)

// Registry is the embedded schema registry on a free loopback port over a
// test's Redis (schemas.Listen, as `sluice dev` and the bench run it). It
// lives here, not in internal/testkit, because schemas' own tests use
// testkit.
type Registry struct {
	URL string
	// Client talks to it through a transport closed when the test ends.
	Client *schemas.Client
}

// StartRegistry serves the registry over rdb until the test ends.
func StartRegistry(t testing.TB, rdb redis.UniversalClient) *Registry {
	t.Helper()
	l, err := schemas.Listen("127.0.0.1:0", rdb)
	if err != nil {
		t.Fatalf("testworker: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return &Registry{URL: l.URL, Client: NewRegistryClient(t, l.URL)}
}

// NewRegistryClient returns a client of the registry at url whose
// connections are closed when the test ends (no goroutine outlives it).
func NewRegistryClient(t testing.TB, url string) *schemas.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return schemas.NewClient(url, &http.Client{Timeout: 5 * time.Second, Transport: tr})
}
