package security

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/sluice-ml/sluice/config"
)

// ClientID is the client id the Dialer and Transport give the brokers.
const ClientID = "sluice"

// DialTimeout bounds opening one broker connection: TCP connect, TLS
// handshake and SASL exchange together.
const DialTimeout = 10 * time.Second

// Kafka validates cfg and returns the Dialer for readers
// (consumers.ReaderConfig.Dialer) and the Transport for writers
// (producers.WriterConfig.Transport), both with cfg's TLS and SASL. With
// neither configured they are plain TCP. It reads the certificate and
// password files once, now; log (nil: slog.Default) gets the warnings about
// insecure settings. Both results are safe for concurrent use and may be
// shared by every reader and writer; the caller closes the Transport's idle
// connections (Transport.CloseIdleConnections) when the writers are closed.
func Kafka(cfg config.Kafka, log *slog.Logger) (*kafka.Dialer, *kafka.Transport, error) {
	log = logger(log)
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	d := &kafka.Dialer{ClientID: ClientID, Timeout: DialTimeout, DualStack: true}
	t := &kafka.Transport{ClientID: ClientID, DialTimeout: DialTimeout}
	if cfg.TLS.Enabled {
		tc, err := tlsConfig("kafka.tls", cfg.TLS, log)
		if err != nil {
			return nil, nil, err
		}
		d.TLS, t.TLS = tc, tc.Clone()
	}
	mech, err := saslMechanism(cfg.SASL)
	if err != nil {
		return nil, nil, err
	}
	if mech != nil {
		d.SASLMechanism, t.SASL = mech, mech
		if mech.Name() == config.SASLPlain && !cfg.TLS.Enabled {
			log.Warn("SASL PLAIN without TLS sends the Kafka password in clear text; set kafka.tls.enabled: true",
				"key", "kafka.sasl.mechanism", "user", cfg.SASL.Username)
		}
	}
	return d, t, nil
}

// saslMechanism returns nil when SASL is off.
func saslMechanism(s config.SASL) (sasl.Mechanism, error) {
	mech := strings.ToUpper(s.Mechanism)
	if mech == "" {
		return nil, nil
	}
	pw, err := password("kafka.sasl", s.Password, s.PasswordFile)
	if err != nil {
		return nil, err
	}
	switch mech {
	case config.SASLPlain:
		return plain.Mechanism{Username: s.Username, Password: pw}, nil
	case config.SASLScramSHA256, config.SASLScramSHA512:
		algo := scram.SHA256
		if mech == config.SASLScramSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, s.Username, pw)
		if err != nil {
			// SASLprep rejects some characters in names and passwords.
			return nil, fmt.Errorf("kafka.sasl: preparing %s credentials: %w", mech, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not one of %s, %s, %s",
		s.Mechanism, config.SASLPlain, config.SASLScramSHA256, config.SASLScramSHA512)
}

// CheckKafka connects with d (from Kafka) to the first of cfg.Brokers that
// accepts it and asks it for the cluster's metadata, so that a wrong
// password, a missing SASL or TLS setting or an untrusted certificate is a
// clear error at start-up rather than a worker whose Fetch and Write fail
// and are retried (against some brokers kafka-go's own errors say only
// "unexpected EOF"). The error names each broker tried,
// the user and mechanism, and the keys to check. Each broker gets at most
// DialTimeout. Safe for concurrent use.
func CheckKafka(ctx context.Context, cfg config.Kafka, d *kafka.Dialer) error {
	var errs []error
	for _, b := range cfg.Brokers {
		err := checkBroker(ctx, d, b)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("kafka: connecting to %s%s: %w%s", b, describe(cfg), err, hint(cfg, err)))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

func checkBroker(ctx context.Context, d *kafka.Dialer, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	// A broker that wants SASL accepts the connection, then closes it at
	// the first request that is not part of a SASL exchange.
	if _, err := conn.Brokers(); err != nil {
		return fmt.Errorf("requesting metadata: %w", err)
	}
	return nil
}

// describe says how the connection authenticates: ` as "u" with SASL
// SCRAM-SHA-256 over TLS`.
func describe(cfg config.Kafka) string {
	var b strings.Builder
	if cfg.SASL.Mechanism != "" {
		fmt.Fprintf(&b, " as %q with SASL %s", cfg.SASL.Username, strings.ToUpper(cfg.SASL.Mechanism))
	}
	if cfg.TLS.Enabled {
		b.WriteString(" over TLS")
	}
	return b.String()
}

// hint names the keys that most likely cause err.
func hint(cfg config.Kafka, err error) string {
	var ke kafka.Error
	switch {
	case errors.Is(err, kafka.SASLAuthenticationFailed):
		return " (check kafka.sasl.username and kafka.sasl.password)"
	case errors.As(err, &ke) && (ke == kafka.UnsupportedSASLMechanism || ke == kafka.IllegalSASLState):
		return " (check kafka.sasl.mechanism against the broker's sasl.enabled.mechanisms)"
	case strings.Contains(err.Error(), "certificate required"):
		return " (the broker wants a client certificate: set kafka.tls.cert_file and kafka.tls.key_file)"
	case strings.Contains(err.Error(), "certificate"):
		return " (check kafka.tls.ca_file, kafka.tls.server_name, kafka.tls.cert_file and kafka.tls.key_file)"
	case strings.Contains(err.Error(), "tls:"):
		return " (is TLS on at the broker? check kafka.tls.enabled)"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNRESET):
		if cfg.SASL.Mechanism == "" || !cfg.TLS.Enabled {
			return " (the broker closed or did not answer: does it require SASL or TLS? check kafka.sasl.mechanism and kafka.tls.enabled)"
		}
	}
	return ""
}
