package schemas

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Registry modes (Confluent's names). IMPORT, where a client chooses the
// ids, is not supported: this registry always assigns them.
const (
	ModeReadWrite        = "READWRITE"
	ModeReadOnly         = "READONLY"
	ModeReadOnlyOverride = "READONLY_OVERRIDE"
	modeImport           = "IMPORT"
)

// MaxSubjectLength bounds a subject name, in bytes.
const MaxSubjectLength = 255

// subjectProblem says why subject cannot name a subject, or "" when it can:
// blank, a control character (NUL, newline, DEL, ...), not UTF-8, or longer
// than MaxSubjectLength.
func subjectProblem(subject string) string {
	switch {
	case strings.TrimSpace(subject) == "":
		return "it is blank"
	case len(subject) > MaxSubjectLength:
		return fmt.Sprintf("it is %d bytes long, more than %d", len(subject), MaxSubjectLength)
	case !utf8.ValidString(subject):
		return "it is not UTF-8"
	case strings.IndexFunc(subject, unicode.IsControl) >= 0:
		return "it holds a control character"
	}
	return ""
}

// checkSubject refuses a malformed subject name with Confluent's 42208
// (HTTP 422); the message quotes a bounded, escaped prefix of it.
func checkSubject(w http.ResponseWriter, subject string) bool {
	why := subjectProblem(subject)
	if why == "" {
		return true
	}
	shown := subject
	if len(shown) > 64 {
		shown = shown[:64] + "..."
	}
	writeError(w, http.StatusUnprocessableEntity, 42208, fmt.Sprintf("The specified subject %q is not valid: %s", shown, why))
	return false
}

// effectiveMode is the mode that governs subject: a global
// READONLY_OVERRIDE, else the subject's own mode, else the global one, else
// READWRITE.
func (s *Server) effectiveMode(ctx context.Context, subject string) (string, error) {
	global, set, err := s.store.mode(ctx, "")
	if err != nil || global == ModeReadOnlyOverride {
		return global, err
	}
	if own, ownSet, err := s.store.mode(ctx, subject); err != nil || ownSet {
		return own, err
	}
	if set {
		return global, nil
	}
	return ModeReadWrite, nil
}

// writable refuses a write under subject when its mode is read-only, with
// Confluent's 42205 (HTTP 422). On failure it has written the response.
func (s *Server) writable(ctx context.Context, w http.ResponseWriter, subject string) bool {
	mode, err := s.effectiveMode(ctx, subject)
	switch {
	case err != nil:
		writeBackendError(w, err)
		return false
	case mode == ModeReadOnly || mode == ModeReadOnlyOverride:
		writeError(w, http.StatusUnprocessableEntity, 42205, fmt.Sprintf("Subject '%s' is in read-only mode", subject))
		return false
	}
	return true
}

// getMode answers GET /mode and GET /mode/{subject}; a subject without a
// mode of its own is 40409 unless ?defaultToGlobal=true.
func (s *Server) getMode(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	mode, set, err := s.store.mode(r.Context(), subject)
	if err == nil && !set {
		if subject != "" && r.URL.Query().Get("defaultToGlobal") != "true" {
			writeError(w, http.StatusNotFound, 40409, fmt.Sprintf("Subject '%s' does not have subject-level mode configured", subject))
			return
		}
		mode, err = s.effectiveMode(r.Context(), subject)
	}
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"mode": mode})
}

// putMode answers PUT /mode and PUT /mode/{subject} with {"mode": "..."}.
func (s *Server) putMode(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if subject != "" && !checkSubject(w, subject) {
		return
	}
	var req struct {
		Mode string `json:"mode"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	mode := strings.ToUpper(req.Mode)
	switch mode {
	case ModeReadWrite, ModeReadOnly, ModeReadOnlyOverride:
	case modeImport:
		writeError(w, http.StatusUnprocessableEntity, 42205, "IMPORT mode is not supported: this registry assigns schema ids itself")
		return
	default:
		writeError(w, http.StatusUnprocessableEntity, 42204, "Invalid mode. Valid values are READWRITE, READONLY and READONLY_OVERRIDE.")
		return
	}
	if mode == ModeReadOnlyOverride && subject != "" {
		writeError(w, http.StatusUnprocessableEntity, 42204, "READONLY_OVERRIDE is a global mode only")
		return
	}
	if err := s.store.setMode(r.Context(), subject, mode); err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"mode": mode})
}

// deleteMode answers DELETE /mode/{subject}: the subject goes back to the
// global mode; the answer is the mode it had (40401 when it had none).
func (s *Server) deleteMode(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	mode, set, err := s.store.mode(r.Context(), subject)
	if err == nil && set {
		err = s.store.setMode(r.Context(), subject, "")
	}
	switch {
	case err != nil:
		writeBackendError(w, err)
	case !set:
		subjectNotFound(w, subject)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"mode": mode})
	}
}
