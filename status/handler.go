package status

import (
	"embed"
	"encoding/json"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Mux is where Register adds the page; *admin.Server and *http.ServeMux
// have this method.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register serves the page at / (exactly), its script and style under
// /status/, and the JSON at /api/status.
func (s *Sampler) Register(m Mux) {
	m.Handle("GET /{$}", asset("assets/index.html", "text/html; charset=utf-8"))
	m.Handle("GET /status/app.js", asset("assets/app.js", "text/javascript; charset=utf-8"))
	m.Handle("GET /status/style.css", asset("assets/style.css", "text/css; charset=utf-8"))
	m.Handle("GET /api/status", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.Status()) // the client went away
	}))
}

// asset serves one embedded file; the page loads nothing from elsewhere.
func asset(name, contentType string) http.Handler {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("status: missing embedded " + name) // a build error, caught by every test
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		_, _ = w.Write(b)
	})
}
