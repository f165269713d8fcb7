package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is the admin server's configuration.
type Config struct {
	// Addr is where the server listens; it binds to localhost by default.
	Addr string `yaml:"addr"`
	// Pprof serves Go's runtime profiles (heap, goroutines, CPU) under
	// /debug/pprof/ for `go tool pprof`. Off by default: a profile shows
	// the process's internals, and a CPU profile costs while it runs.
	Pprof bool `yaml:"pprof"`
}

// DefaultAddr is the admin server's default listen address.
const DefaultAddr = "127.0.0.1:8080"

// Validate checks that Addr is host:port.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("admin.addr: %w", err)
	}
	return nil
}

// Server serves the admin endpoints. Handle adds more (the status page, the
// inference protocol). Safe for concurrent use once Run has started.
type Server struct {
	mux   *http.ServeMux
	addr  string
	ready func() readyBody
	ln    net.Listener
}

// Condition is one reason the worker is not ready, as /readyz lists it.
type Condition struct {
	Name   string `json:"condition"`
	Detail string `json:"detail"`
	// Route names the route the condition holds back (NewRoutes).
	Route string `json:"route,omitempty"`
}

// Route is one route's readiness as /readyz lists it.
type Route struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
	// Optional routes do not hold the process's readiness.
	Optional   bool        `json:"optional,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// readyBody is what /readyz answers, as JSON.
type readyBody struct {
	Ready      bool        `json:"ready"`
	Conditions []Condition `json:"conditions,omitempty"`
	Routes     []Route     `json:"routes,omitempty"`
}

// New returns a server exposing gatherer's metrics; ready returns why the
// worker cannot make progress now (none: ready). /readyz answers 200, or
// 503 listing the conditions, as JSON; /healthz says only that the process
// serves HTTP.
func New(cfg Config, gatherer prometheus.Gatherer, ready func() []Condition) *Server {
	return newServer(cfg, gatherer, func() readyBody {
		conds := ready()
		return readyBody{Ready: len(conds) == 0, Conditions: conds}
	})
}

// NewRoutes is New for a process serving routes: routes returns each
// route's standing. /readyz answers 200 when every route that is not
// optional is ready, else 503; its JSON lists every route (ready,
// optional, conditions) and, at the top, the conditions of the routes
// that hold readiness back, each naming its route.
func NewRoutes(cfg Config, gatherer prometheus.Gatherer, routes func() []Route) *Server {
	return newServer(cfg, gatherer, func() readyBody {
		b := readyBody{Ready: true, Routes: routes()}
		for i, r := range b.Routes {
			b.Routes[i].Ready = len(r.Conditions) == 0
			for j := range r.Conditions {
				r.Conditions[j].Route = r.Name
			}
			if !r.Optional {
				b.Conditions = append(b.Conditions, r.Conditions...)
			}
		}
		b.Ready = len(b.Conditions) == 0
		return b
	})
}

func newServer(cfg Config, gatherer prometheus.Gatherer, ready func() readyBody) *Server {
	s := &Server{mux: http.NewServeMux(), addr: cfg.Addr, ready: ready}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		body := s.ready()
		w.Header().Set("Content-Type", "application/json")
		if !body.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	if cfg.Pprof {
		s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return s
}

// Readiness is what /readyz answers now: whether the worker can make
// progress and, when not, the conditions that hold it back (each naming
// its route where the server serves routes). The status page shows it.
func (s *Server) Readiness() (ready bool, conditions []Condition) {
	b := s.ready()
	return b.Ready, b.Conditions
}

// Handle registers an extra handler on the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Listen binds the address, so that callers learn a port chosen by the
// kernel (":0") before Run. Run calls it when it was not called.
func (s *Server) Listen() (net.Addr, error) {
	if s.ln == nil {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("admin: listening on %s: %w", s.addr, err)
		}
		s.ln = ln
	}
	return s.ln.Addr(), nil
}

// Run serves until ctx ends, then shuts down within five seconds.
func (s *Server) Run(ctx context.Context) error {
	if _, err := s.Listen(); err != nil {
		return err
	}
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin: serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("admin: shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
