package oip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/pipeline"
)

// Backend is what the protocol serves: *pipeline.Worker implements it.
// Implementations must be safe for concurrent use.
type Backend interface {
	Predict(ctx context.Context, recs []map[string]any) ([]pipeline.Output, error)
	Serving() *inference.Model // nil when none is loaded; only read, never run
	Ready() bool
}

var _ Backend = (*pipeline.Worker)(nil)

// Mux is where Register adds the endpoints; *admin.Server and
// *http.ServeMux have this method.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Config bounds infer requests.
type Config struct {
	// MaxRequestBytes is the largest infer request body accepted (413 above).
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
	// Timeout bounds one infer request (503 when it runs out).
	Timeout time.Duration `yaml:"timeout"`
}

// WithDefaults returns c with zero fields set: 32 MiB, 30s.
func (c Config) WithDefaults() Config {
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 32 << 20
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	return c
}

// Server answers the protocol's requests for one or more backends (the
// routes of a worker). It is safe for concurrent use.
type Server struct {
	bs  []Backend
	cfg Config
}

// New returns a server for b; cfg's zero fields take their defaults.
func New(b Backend, cfg Config) *Server { return NewSet([]Backend{b}, cfg) }

// NewSet returns a server for every backend of bs: /v2/models/{name}
// reaches the backend serving model name (the first ready one when
// several routes serve it); /v2/health/ready is ready when every backend
// is.
func NewSet(bs []Backend, cfg Config) *Server {
	return &Server{bs: bs, cfg: cfg.WithDefaults()}
}

// Register adds the protocol's endpoints to m.
func (s *Server) Register(m Mux) {
	m.Handle("GET /v2", http.HandlerFunc(s.server))
	m.Handle("GET /v2/health/live", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	}))
	m.Handle("GET /v2/health/ready", http.HandlerFunc(s.ready))
	for _, p := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		m.Handle("GET "+p, http.HandlerFunc(s.metadata))
		m.Handle("GET "+p+"/ready", http.HandlerFunc(s.modelReady))
		m.Handle("POST "+p+"/infer", http.HandlerFunc(s.infer))
	}
	m.Handle("/v2/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	}))
}

func (s *Server) server(w http.ResponseWriter, _ *http.Request) {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	writeJSON(w, http.StatusOK, serverMetadata{Name: "sluice", Version: v, Extensions: []string{}})
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	ready := true
	for _, b := range s.bs {
		ready = ready && b.Ready()
	}
	if !ready {
		writeError(w, http.StatusServiceUnavailable, "not ready: the worker has not joined its consumer group or has no model")
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// model resolves the {name} and optional {version} of r to the model now
// serving, or answers 404 (or 503 when there is none) and returns nil.
func (s *Server) model(w http.ResponseWriter, r *http.Request) *served {
	want := r.PathValue("name")
	var m *served
	var names []string
	for _, b := range s.bs {
		c := servedModel(b.Serving())
		if c == nil {
			continue
		}
		if c.name == want && (m == nil || !m.b.Ready() && b.Ready()) {
			c.b, m = b, c
		}
		if !slices.Contains(names, c.name) {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		writeError(w, http.StatusServiceUnavailable, "no model is loaded")
		return nil
	}
	if m == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown model %q: this server serves %s", want, quoted(names)))
		return nil
	}
	if want := r.PathValue("version"); want != "" && want != m.version {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q has no version %q here: version %q is serving", m.name, want, m.version))
		return nil
	}
	return m
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if m := s.model(w, r); m != nil {
		writeJSON(w, http.StatusOK, m.metadata())
	}
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	m := s.model(w, r)
	if m == nil {
		return
	}
	name := m.name
	if !m.b.Ready() {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("model %q is not ready: the worker has not joined its consumer group", name))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "ready": true})
}

// quoted lists names as "a", "b".
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// status maps an infer error to its HTTP status.
func status(err error) int {
	var re *requestError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &re):
		return http.StatusBadRequest
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, pipeline.ErrNotServing), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
