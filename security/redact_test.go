package security

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/config"
)

func TestRedactorFindsEverySecretOfAConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := config.Default()
	c.Redis.URL = "redis://u:url-pw@h:6379/0"
	c.Registry.URL = "http://u:reg%2Fpw@h:8081"
	c.Kafka.SASL.PasswordFile = file("sasl", "sasl-file-pw\n")
	c.Redis.PasswordFile = file("redis", "redis-file-pw")
	r := RedactorFor(c)
	text := "url-pw reg/pw reg%2Fpw sasl-file-pw redis-file-pw abc"
	if got, want := r.String(text), "[redacted] [redacted] [redacted] [redacted] [redacted] abc"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	c2 := config.Default()
	c2.Redis.Password, c2.Kafka.SASL.Password = "plain-redis", "plain-sasl"
	if got := RedactorFor(c2).String("plain-redis plain-sasl"); got != "[redacted] [redacted]" {
		t.Errorf("String = %q", got)
	}
	env := RedactorFromEnv([]string{"SLUICE_REDIS_PASSWORD=env-pw1", "SLUICE_KAFKA_SASL_PASSWORD_FILE=" + file("env", "env-pw2\n"),
		"SLUICE_REGISTRY_URL=http://u:env-pw3@h", "OTHER_PASSWORD=not-ours", "SLUICE_MODEL_NAME=fraud"})
	if got, want := env.String("env-pw1 env-pw2 env-pw3 not-ours fraud"), "[redacted] [redacted] [redacted] not-ours fraud"; got != want {
		t.Errorf("from env: %q, want %q", got, want)
	}
	if got := NewRedactor("abc").String("abc"); got != "abc" {
		t.Errorf("a three-byte secret was redacted: %q", got)
	}
	// A URL's password goes even when no secret was given.
	if got := NewRedactor().String("dial redis://x:unknown@h:1 failed"); strings.Contains(got, "unknown") {
		t.Errorf("URL password kept: %q", got)
	}
}

func TestRedactorErrorKeepsWhatItWraps(t *testing.T) {
	r := NewRedactor("hunter22")
	base := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	err := r.Error(fmt.Errorf("connecting with hunter22: %w", base))
	if strings.Contains(err.Error(), "hunter22") {
		t.Fatalf("error prints the secret: %v", err)
	}
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Fatalf("redacted error no longer wraps: %v", err)
	}
	if r.Error(nil) != nil || r.Error(base) != error(base) {
		t.Fatal("nil or clean errors must pass unchanged")
	}
}

func TestRedactorLogger(t *testing.T) {
	var buf bytes.Buffer
	r := NewRedactor("hunter22")
	log := r.Logger(slog.New(slog.NewJSONHandler(&buf, nil)))
	log = log.With("url", "redis://u:hunter22@h/0").WithGroup("g")
	log.Info("login hunter22", "err", errors.New("bad password hunter22"), "n", 3,
		slog.Group("inner", "pw", "hunter22", "s", fmt.Stringer(stringer("x hunter22"))))
	// A second redactor's secrets add to the first's.
	log2 := NewRedactor("swordfish").Logger(log)
	log2.Warn("swordfish and hunter22")
	out := buf.String()
	for _, s := range []string{"hunter22", "swordfish"} {
		if strings.Contains(out, s) {
			t.Errorf("log prints %q:\n%s", s, out)
		}
	}
	for _, want := range []string{`"msg":"login [redacted]"`, `"url":"redis://u:[redacted]@h/0"`, `"n":3`, `"msg":"[redacted] and [redacted]"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }
