package security

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"github.com/sluice-ml/sluice/config"
)

// tlsConfig builds a client TLS config from c; p is the key prefix that
// errors and warnings name ("kafka.tls"). It does not look at c.Enabled:
// the caller decides whether TLS is on.
func tlsConfig(p string, c config.TLS, log *slog.Logger) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", p, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.ca_file: no PEM certificate in %s", p, c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if c.CertFile == "" || c.KeyFile == "" {
			return nil, fmt.Errorf("%s.cert_file, %s.key_file: give both or neither", p, p)
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.cert_file, %s.key_file: %w", p, p, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if c.InsecureSkipVerify {
		tc.InsecureSkipVerify = true
		log.Warn("TLS server certificates are NOT verified: anyone on the network path can impersonate the server "+
			"and read the traffic and the credentials sent over it; never use this outside a test",
			"key", p+".insecure_skip_verify")
	}
	return tc, nil
}

// password returns pw, or the contents of file without its trailing
// newline; p is the key prefix ("kafka.sasl").
func password(p string, pw config.Secret, file string) (string, error) {
	if file == "" {
		return string(pw), nil
	}
	if pw != "" {
		return "", fmt.Errorf("%s.password_file: set together with %s.password; give only one", p, p)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s.password_file: %w", p, err)
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	if len(b) == 0 {
		return "", fmt.Errorf("%s.password_file: %s is empty", p, file)
	}
	return string(b), nil
}

func logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.Default()
	}
	return log
}
