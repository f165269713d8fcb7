package config

import (
	"errors"
	"fmt"
	"strings"
)

// TLS configures a TLS client. The zero value is TLS off. It is plain data,
// safe for concurrent reads.
type TLS struct {
	// Enabled turns TLS on (for Redis, a rediss:// URL also does).
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of the CAs that sign the server's certificate;
	// empty means the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client's PEM certificate and key, for
	// servers that require client certificates (mTLS). Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name the server's certificate must carry; empty
	// means the host of the address dialled.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify accepts any server certificate. For a test only:
	// anyone on the path can then read the traffic and the credentials.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// SASL mechanisms that Kafka.SASL.Mechanism accepts (case-insensitively).
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASL configures SASL authentication to the Kafka brokers. The zero value
// is no authentication. It is plain data, safe for concurrent reads.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty turns SASL off.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password is best given as SLUICE_KAFKA_SASL_PASSWORD or through
	// PasswordFile rather than in the file.
	Password Secret `yaml:"password"`
	// PasswordFile holds the password instead (a mounted secret); one
	// trailing newline is ignored.
	PasswordFile string `yaml:"password_file"`
}

// Secret is a string that prints as "[redacted]" (in logs, `sluice config`
// and %v of a Config). Convert it with string(s) where the value is needed.
// Its methods are safe for concurrent use.
type Secret string

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Validate reports every bad kafka.* value, each naming its key. It is
// safe for concurrent use.
func (k Kafka) Validate() error {
	var errs []error
	if len(k.Brokers) == 0 {
		errs = append(errs, errors.New("kafka.brokers: at least one broker is needed"))
	}
	errs = append(errs, k.TLS.validate("kafka.tls", k.TLS.Enabled, "set kafka.tls.enabled: true")...)
	errs = append(errs, k.SASL.validate("kafka.sasl")...)
	return errors.Join(errs...)
}

func (s SASL) validate(p string) []error {
	var errs []error
	switch strings.ToUpper(s.Mechanism) {
	case "":
		if s.Username != "" || s.Password != "" || s.PasswordFile != "" {
			errs = append(errs, fmt.Errorf("%s.mechanism: required when credentials are set (%s, %s or %s)",
				p, SASLPlain, SASLScramSHA256, SASLScramSHA512))
		}
		return errs
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	default:
		errs = append(errs, fmt.Errorf("%s.mechanism: %q is not one of %s, %s, %s",
			p, s.Mechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512))
	}
	if s.Username == "" {
		errs = append(errs, fmt.Errorf("%s.username: required with %s.mechanism", p, p))
	}
	errs = append(errs, passwordErrs(p, s.Password, s.PasswordFile, true)...)
	return errs
}

// passwordErrs checks that at most one (or, if required, exactly one) of
// p.password and p.password_file is set.
func passwordErrs(p string, pw Secret, file string, required bool) []error {
	switch {
	case pw != "" && file != "":
		return []error{fmt.Errorf("%s.password_file: set together with %s.password; give only one", p, p)}
	case required && pw == "" && file == "":
		return []error{fmt.Errorf("%s.password: required (or %s.password_file, or the %s environment variable)",
			p, p, EnvName(p+".password"))}
	}
	return nil
}

// validate checks t under key prefix p; on says whether TLS is on, and
// how reports how to turn it on.
func (t TLS) validate(p string, on bool, how string) []error {
	var errs []error
	if !on {
		for _, f := range []struct {
			key string
			set bool
		}{{"ca_file", t.CAFile != ""}, {"cert_file", t.CertFile != ""}, {"key_file", t.KeyFile != ""},
			{"server_name", t.ServerName != ""}, {"insecure_skip_verify", t.InsecureSkipVerify}} {
			if f.set {
				errs = append(errs, fmt.Errorf("%s.%s: set but TLS is off (%s)", p, f.key, how))
			}
		}
		return errs
	}
	if t.CertFile != "" && t.KeyFile == "" {
		errs = append(errs, fmt.Errorf("%s.key_file: required with %s.cert_file", p, p))
	}
	if t.KeyFile != "" && t.CertFile == "" {
		errs = append(errs, fmt.Errorf("%s.cert_file: required with %s.key_file", p, p))
	}
	return errs
}
