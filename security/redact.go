package security

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/sluice-ml/sluice/config"
)

// minSecret is the shortest secret a Redactor looks for: shorter ones
// would blank out ordinary words, and cannot protect much anyway.
const minSecret = 4

// Redactor removes secrets from text sluice prints: the known secret
// values it was given (and their URL-escaped forms), and the password of
// any URL's user information (scheme://user:password@). Logs, errors and
// `sluice config` go through one. Its methods are safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another goes whole
}

// NewRedactor returns a Redactor for secrets (empty and very short ones are
// ignored: those under four bytes would blank out ordinary text).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// RedactorFor returns a Redactor for every secret of cfg: redis.password,
// kafka.sasl.password, the contents of their password files, and the
// passwords in redis.url and registry.url. A password file that cannot be
// read is skipped (its error is reported where the file is used).
func RedactorFor(cfg config.Config) *Redactor {
	r := NewRedactor(string(cfg.Redis.Password), string(cfg.Kafka.SASL.Password))
	for _, file := range []string{cfg.Redis.PasswordFile, cfg.Kafka.SASL.PasswordFile} {
		if file != "" {
			if pw, err := password("", "", file); err == nil {
				r.Add(pw)
			}
		}
	}
	for _, u := range []string{cfg.Redis.URL, cfg.Registry.URL} {
		if pw, ok := config.URLPassword(u); ok {
			r.Add(pw)
		}
	}
	return r
}

// RedactorFromEnv returns a Redactor for the secrets in environ
// (os.Environ() form): the value of every SLUICE_* variable whose name ends
// in PASSWORD, the contents of every SLUICE_*_PASSWORD_FILE, and the
// password of every SLUICE_* URL.
func RedactorFromEnv(environ []string) *Redactor {
	r := NewRedactor()
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, config.EnvPrefix) || v == "" {
			continue
		}
		switch {
		case strings.HasSuffix(k, "PASSWORD"):
			r.Add(v)
		case strings.HasSuffix(k, "PASSWORD_FILE"):
			if pw, err := password("", "", v); err == nil {
				r.Add(pw)
			}
		default:
			if pw, ok := config.URLPassword(v); ok {
				r.Add(pw)
			}
		}
	}
	return r
}

// Add makes r redact secrets too.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), (&url.URL{User: url.UserPassword("u", s)}).String()} {
			if strings.HasPrefix(form, "//u:") { // the userinfo escaping of s
				form = strings.TrimSuffix(strings.TrimPrefix(form, "//u:"), "@")
			}
			if !slices.Contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Merge makes r redact every secret of o too.
func (r *Redactor) Merge(o *Redactor) {
	o.mu.RLock()
	s := slices.Clone(o.secrets)
	o.mu.RUnlock()
	r.Add(s...)
}

// String returns s with every secret replaced by [redacted].
func (r *Redactor) String(s string) string {
	s = config.RedactText(s)
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, secret := range r.secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, config.Redacted)
		}
	}
	return s
}

// Error returns err with its message redacted. The result still wraps err,
// so errors.Is and errors.As see through it; nil stays nil, and an error
// with nothing to redact is returned as it is.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// redactedError is an error whose message had a secret in it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Logger returns a logger that writes through log's handler with every
// secret redacted from the message and from every attribute's value
// (strings, errors and anything else that prints). A nil log means
// slog.Default().
func (r *Redactor) Logger(log *slog.Logger) *slog.Logger {
	return slog.New(r.Handler(logger(log).Handler()))
}

// Handler wraps h so that every record it handles is redacted first.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	if rh, ok := h.(*redactHandler); ok {
		merged := NewRedactor()
		merged.Merge(rh.r)
		merged.Merge(r)
		return &redactHandler{r: merged, next: rh.next}
	}
	return &redactHandler{r: r, next: h}
}

type redactHandler struct {
	r    *Redactor
	next slog.Handler
}

var _ slog.Handler = (*redactHandler)(nil)

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &redactHandler{r: h.r, next: h.next.WithAttrs(red)}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{r: h.r, next: h.next.WithGroup(name)}
}

// attr redacts one attribute's value; a value that would print a secret is
// replaced by its redacted text.
func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		var text string
		if err, ok := v.Any().(error); ok {
			text = err.Error()
		} else {
			text = fmt.Sprint(v.Any())
		}
		if red := h.r.String(text); red != text {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
