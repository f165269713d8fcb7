package schemas

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// effectiveLevel is subject's own compatibility level, else the global one,
// else DefaultCompatibility.
func (s *Server) effectiveLevel(ctx context.Context, subject string) (string, error) {
	for _, scope := range []string{subject, ""} {
		level, set, err := s.store.level(ctx, scope)
		if err != nil || set {
			return level, err
		}
	}
	return DefaultCompatibility, nil
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	level, set, err := s.store.level(r.Context(), subject)
	if err == nil && !set {
		if subject != "" && r.URL.Query().Get("defaultToGlobal") != "true" {
			writeError(w, http.StatusNotFound, 40408, fmt.Sprintf(
				"Subject '%s' does not have subject-level compatibility configured", subject))
			return
		}
		level, err = s.effectiveLevel(r.Context(), "")
	}
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"compatibilityLevel": level})
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if subject != "" && !checkSubject(w, subject) {
		return
	}
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	level := strings.ToUpper(req.Compatibility)
	if !compatLevels[level] {
		writeError(w, http.StatusUnprocessableEntity, 42203, "Invalid compatibility level. Valid values are none, backward, forward, full, "+
			"backward_transitive, forward_transitive, and full_transitive")
		return
	}
	if err := s.store.setLevel(r.Context(), subject, level); err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"compatibility": level})
}

// testCompat answers whether a schema could be registered after a version:
// POST /compatibility/subjects/{subject}/versions/{version}.
func (s *Server) testCompat(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.subjectVersion(r.Context(), w, r)
	if !ok {
		return
	}
	_, n, ok := readSchema(w, r)
	if !ok {
		return
	}
	level, err := s.effectiveLevel(r.Context(), sv.Subject)
	var prev *node
	if err == nil {
		prev, err = s.node(int64(sv.ID), sv.Schema)
	}
	if err != nil {
		writeBackendError(w, err)
		return
	}
	// Against one named version, the transitive levels mean their plain ones.
	problems := checkCompat(strings.TrimSuffix(level, "_TRANSITIVE"), n, []*node{prev})
	out := map[string]any{"is_compatible": len(problems) == 0}
	if r.URL.Query().Get("verbose") == "true" {
		out["messages"] = append([]string{}, problems...)
	}
	writeJSON(w, http.StatusOK, out)
}
