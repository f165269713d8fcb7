package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// maxRegisterAttempts bounds how often a registration re-runs its
// compatibility check because others registered under the subject meanwhile.
const maxRegisterAttempts = 32

type registerRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
}

// readSchema reads a request's schema, checks it is Avro goavro accepts, and
// returns its compact JSON text and parsed form. On failure it has written
// the error response.
func readSchema(w http.ResponseWriter, r *http.Request) (canon string, n *node, ok bool) {
	var req registerRequest
	if !readJSON(w, r, &req) {
		return "", nil, false
	}
	invalid := func(msg string) (string, *node, bool) {
		writeError(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: "+msg)
		return "", nil, false
	}
	if t := strings.ToUpper(req.SchemaType); t != "" && t != "AVRO" {
		return invalid(fmt.Sprintf("schema type %s is not supported, only AVRO", req.SchemaType))
	}
	if len(req.References) > 0 {
		return invalid("schema references are not supported")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(req.Schema)); err != nil {
		return invalid("not json: " + err.Error())
	}
	canon = buf.String()
	if _, err := newCodec(canon); err != nil {
		return invalid(err.Error())
	}
	n, err := parseSchema(canon)
	if err != nil {
		return invalid(err.Error())
	}
	return canon, n, true
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if !checkSubject(w, subject) {
		return
	}
	canon, n, ok := readSchema(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if !s.writable(ctx, w, subject) {
		return
	}
	for range maxRegisterAttempts {
		id, version, ids, err := s.store.lookup(ctx, subject, canon)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		if version > 0 {
			writeJSON(w, http.StatusOK, map[string]int64{"id": id})
			return
		}
		problems, err := s.compatProblems(r, subject, n, ids)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		if len(problems) > 0 {
			writeError(w, http.StatusConflict, 409, fmt.Sprintf(
				"Schema being registered is incompatible with an earlier schema for subject %q, details: %v", subject, problems))
			return
		}
		id, _, conflict, err := s.store.register(ctx, subject, canon, len(ids))
		if err != nil {
			writeBackendError(w, err)
			return
		}
		if !conflict {
			writeJSON(w, http.StatusOK, map[string]int64{"id": id})
			return
		}
	}
	writeBackendError(w, errors.New("registration kept racing with others; try again"))
}

// compatProblems checks n against the versions ids of subject under the
// subject's compatibility level.
func (s *Server) compatProblems(r *http.Request, subject string, n *node, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	level, err := s.effectiveLevel(r.Context(), subject)
	if err != nil || level == CompatNone {
		return nil, err
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") {
		ids = ids[len(ids)-1:]
	}
	prev, err := s.subjectNodes(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	return checkCompat(level, n, prev), nil
}

func (s *Server) lookupSchema(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if !checkSubject(w, subject) {
		return
	}
	canon, _, ok := readSchema(w, r)
	if !ok {
		return
	}
	id, version, ids, err := s.store.lookup(r.Context(), subject, canon)
	switch {
	case err != nil:
		writeBackendError(w, err)
	case len(ids) == 0:
		subjectNotFound(w, subject)
	case version == 0:
		writeError(w, http.StatusNotFound, 40403, "Schema not found")
	default:
		writeJSON(w, http.StatusOK, SubjectVersion{Subject: subject, Version: version, ID: int32(id), Schema: canon})
	}
}
