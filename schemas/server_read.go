package schemas

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
)

func (s *Server) listSubjects(w http.ResponseWriter, r *http.Request) {
	subjects, err := s.store.subjects(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, subjects)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	ids, err := s.store.versionIDs(r.Context(), subject)
	switch {
	case err != nil:
		writeBackendError(w, err)
	case len(ids) == 0:
		subjectNotFound(w, subject)
	default:
		versions := make([]int, len(ids))
		for i := range ids {
			versions[i] = i + 1
		}
		writeJSON(w, http.StatusOK, versions)
	}
}

// parseVersion reads "latest", "-1" or 1..2^31-1; 0 means latest.
func parseVersion(v string) (int, bool) {
	if v == "latest" || v == "-1" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return 0, false
	}
	return n, true
}

// subjectVersion resolves {subject} and {version} of a request. On failure it
// has written the error response.
func (s *Server) subjectVersion(ctx context.Context, w http.ResponseWriter, r *http.Request) (SubjectVersion, bool) {
	subject, raw := r.PathValue("subject"), r.PathValue("version")
	version, ok := parseVersion(raw)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, 42202, fmt.Sprintf(
			"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", raw))
		return SubjectVersion{}, false
	}
	ids, err := s.store.versionIDs(ctx, subject)
	switch {
	case err != nil:
		writeBackendError(w, err)
		return SubjectVersion{}, false
	case len(ids) == 0:
		subjectNotFound(w, subject)
		return SubjectVersion{}, false
	case version > len(ids):
		writeError(w, http.StatusNotFound, 40402, fmt.Sprintf("Version %d not found.", version))
		return SubjectVersion{}, false
	case version == 0:
		version = len(ids)
	}
	id := ids[version-1]
	texts, ok, err := s.store.schemas(ctx, id)
	if err == nil && !ok {
		err = fmt.Errorf("schema %d of subject %q is missing", id, subject)
	}
	if err != nil {
		writeBackendError(w, err)
		return SubjectVersion{}, false
	}
	return SubjectVersion{Subject: subject, Version: version, ID: int32(id), Schema: texts[0]}, true
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.subjectVersion(r.Context(), w, r); ok {
		writeJSON(w, http.StatusOK, sv)
	}
}

func (s *Server) getVersionSchema(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.subjectVersion(r.Context(), w, r); ok {
		w.Header().Set("Content-Type", ContentType)
		_, _ = io.WriteString(w, sv.Schema)
	}
}

// schemaID resolves {id}; on failure it has written the error response.
func (s *Server) schemaID(w http.ResponseWriter, r *http.Request) (int64, string, bool) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 32)
	if err != nil || id < 1 {
		writeError(w, http.StatusNotFound, 40403, fmt.Sprintf("Schema %s not found", raw))
		return 0, "", false
	}
	texts, ok, err := s.store.schemas(r.Context(), id)
	switch {
	case err != nil:
		writeBackendError(w, err)
		return 0, "", false
	case !ok:
		writeError(w, http.StatusNotFound, 40403, fmt.Sprintf("Schema %d not found", id))
		return 0, "", false
	}
	return id, texts[0], true
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request) {
	if _, text, ok := s.schemaID(w, r); ok {
		writeJSON(w, http.StatusOK, schemaBody{Schema: text})
	}
}

// getSchemaText answers GET /schemas/ids/{id}/schema: the schema text
// alone, as GET /subjects/{subject}/versions/{v}/schema does.
func (s *Server) getSchemaText(w http.ResponseWriter, r *http.Request) {
	if _, text, ok := s.schemaID(w, r); ok {
		w.Header().Set("Content-Type", ContentType)
		_, _ = io.WriteString(w, text)
	}
}

type subjectAndVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (s *Server) getSchemaVersions(w http.ResponseWriter, r *http.Request) {
	id, _, ok := s.schemaID(w, r)
	if !ok {
		return
	}
	subjects, err := s.store.subjects(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	out := []subjectAndVersion{}
	for _, subject := range subjects {
		ids, err := s.store.versionIDs(r.Context(), subject)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		for i, v := range ids {
			if v == id {
				out = append(out, subjectAndVersion{subject, i + 1})
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
