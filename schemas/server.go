package schemas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Server is an embedded schema registry speaking Confluent's REST API
// (the subset that serializers, deserializers and operators use), with its
// state in Redis under sluice:registry:*, so ids survive restarts and every
// worker that shares the Redis shares the registry:
//
//	GET  /subjects                                   names, sorted
//	POST /subjects/{subject}                         look a schema up: {subject, id, version, schema}
//	GET  /subjects/{subject}/versions                [1, 2, ...]
//	POST /subjects/{subject}/versions                register: {"schema": "..."} → {"id": n}
//	GET  /subjects/{subject}/versions/{v}            v = n, latest or -1: {subject, version, id, schema}
//	GET  /subjects/{subject}/versions/{v}/schema     the schema text alone
//	GET  /schemas/ids/{id}                           {"schema": "..."}
//	GET  /schemas/ids/{id}/schema                    the schema text alone
//	GET  /schemas/ids/{id}/versions                  [{subject, version}, ...]
//	GET  /schemas/types                              ["AVRO"]
//	GET  /config, PUT /config                        compatibility level (default BACKWARD)
//	GET  /config/{subject}, PUT /config/{subject}    a subject's own level
//	GET  /mode, PUT /mode                            READWRITE (default), READONLY or READONLY_OVERRIDE
//	GET  /mode/{subject}, PUT and DELETE too         a subject's own mode
//	POST /compatibility/subjects/{subject}/versions/{v}  {"is_compatible": bool}
//
// Only Avro schemas without references are accepted. Schemas are stored as
// compact JSON, so texts that differ only in whitespace are one schema: one
// id, also across subjects. Registration is atomic (a Lua script), so
// workers registering at once get one id, and it checks the subject's
// compatibility level and mode (READONLY refuses it with 42205; a global
// READONLY_OVERRIDE wins over every subject's own mode). Deleting schemas
// is not supported, nor is IMPORT mode (ids are always assigned here).
// Errors carry Confluent's bodies, such as {"error_code": 40401, "message":
// "Subject 'x' not found."}: a subject name that is blank, holds a control
// character (NUL included) or is longer than 255 bytes is refused with
// 42208 (HTTP 422) wherever one is written, and a body over 8 MiB with
// HTTP 413.
//
// A Server is safe for concurrent use.
type Server struct {
	store store
	mux   *http.ServeMux
	nodes sync.Map // int64 id → *node, parsed schemas for compatibility checks
}

var _ http.Handler = (*Server)(nil)

// DefaultCompatibility is the level used until PUT /config sets another.
const DefaultCompatibility = CompatBackward

// maxRequest bounds request bodies; a larger one is answered 413.
const maxRequest = 8 << 20

// NewServer returns a registry server keeping its state in rdb.
func NewServer(rdb redis.UniversalClient) *Server {
	s := &Server{store: store{rdb: rdb}, mux: http.NewServeMux()}
	s.route("/{$}", methods{"GET": func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, struct{}{}) }})
	s.route("/subjects", methods{"GET": s.listSubjects})
	s.route("/subjects/{subject}", methods{"POST": s.lookupSchema})
	s.route("/subjects/{subject}/versions", methods{"GET": s.listVersions, "POST": s.register})
	s.route("/subjects/{subject}/versions/{version}", methods{"GET": s.getVersion})
	s.route("/subjects/{subject}/versions/{version}/schema", methods{"GET": s.getVersionSchema})
	s.route("/schemas/ids/{id}", methods{"GET": s.getSchema})
	s.route("/schemas/ids/{id}/schema", methods{"GET": s.getSchemaText})
	s.route("/schemas/ids/{id}/versions", methods{"GET": s.getSchemaVersions})
	s.route("/schemas/types", methods{"GET": func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, []string{"AVRO"}) }})
	s.route("/config", methods{"GET": s.getConfig, "PUT": s.putConfig})
	s.route("/config/{subject}", methods{"GET": s.getConfig, "PUT": s.putConfig})
	s.route("/mode", methods{"GET": s.getMode, "PUT": s.putMode})
	s.route("/mode/{subject}", methods{"GET": s.getMode, "PUT": s.putMode, "DELETE": s.deleteMode})
	s.route("/compatibility/subjects/{subject}/versions/{version}", methods{"POST": s.testCompat})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, 404, "HTTP 404 Not Found")
	})
	return s
}

// ServeHTTP serves one registry request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequest)
	s.mux.ServeHTTP(w, r)
}

func (s *Server) route(pattern string, m methods) { s.mux.Handle(pattern, m) }

// methods dispatches on the HTTP method and answers 405 in Confluent's shape.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, 405, "HTTP 405 Method Not Allowed")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error_code":50000,"message":"encoding response"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, APIError{ErrorCode: code, Message: msg})
}

func writeBackendError(w http.ResponseWriter, err error) {
	writeError(w, http.StatusInternalServerError, 50001, "Error in the backend data store: "+err.Error())
}

// readJSON decodes the request body into v. On failure it has written the
// error response: 413 for a body over maxRequest, 400 for one that is not
// JSON.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is larger than %d bytes", tooLarge.Limit))
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, 400, "Malformed request body: "+err.Error())
		return false
	}
	return true
}

func subjectNotFound(w http.ResponseWriter, subject string) {
	writeError(w, http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", subject))
}

// node returns the parsed schema of id, parsing text on first use.
func (s *Server) node(id int64, text string) (*node, error) {
	if n, ok := s.nodes.Load(id); ok {
		return n.(*node), nil
	}
	n, err := parseSchema(text)
	if err != nil {
		return nil, fmt.Errorf("schema %d in redis: %w", id, err)
	}
	s.nodes.Store(id, n)
	return n, nil
}

// subjectNodes returns the parsed schemas of ids, oldest first.
func (s *Server) subjectNodes(ctx context.Context, ids []int64) ([]*node, error) {
	texts, ok, err := s.store.schemas(ctx, ids...)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("a schema of ids %v is missing", ids)
	}
	nodes := make([]*node, len(ids))
	for i, id := range ids {
		if nodes[i], err = s.node(id, texts[i]); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}
