package schemas

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// Listening is the embedded registry serving HTTP on a TCP address: the
// one way sluice runs it, for `sluice dev`, the benchmark and the tests
// (internal/testkit).
type Listening struct {
	// URL is http://host:port, the registry's base URL.
	URL string
	srv *http.Server
	ln  net.Listener
}

// Listen serves the registry API over rdb on addr ("127.0.0.1:0": a free
// port) until Close.
func Listen(addr string, rdb redis.UniversalClient) (*Listening, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("schema registry: listening on %s: %w", addr, err)
	}
	l := &Listening{URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: NewServer(rdb), ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// Close stops the server: requests in flight get up to 3s to finish.
func (l *Listening) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}
