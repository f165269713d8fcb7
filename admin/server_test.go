package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestPprofOnlyWhenAskedFor(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := New(Config{Addr: "127.0.0.1:0", Pprof: on}, prometheus.NewRegistry(), func() []Condition { return nil })
		addr, err := s.Listen()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		resp, err := http.Get("http://" + addr.String() + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		switch {
		case on && (resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile")):
			t.Errorf("pprof on: %d %.80q, want the heap profile", resp.StatusCode, body)
		case !on && resp.StatusCode != http.StatusNotFound:
			t.Errorf("pprof off: %d, want 404", resp.StatusCode)
		}
	}
}
