package security

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestKafkaTLS(t *testing.T) {
	t.Parallel()
	p, other := newPKI(t, "kafka"), newPKI(t, "other")
	k := testkit.StartKafka(t, kfake.TLS(p.serverTLS(false)))
	on := func(c config.TLS) config.Kafka { c.Enabled = true; return config.Kafka{TLS: c} }
	t.Run("right CA", func(t *testing.T) {
		roundTrip(t, k, on(config.TLS{CAFile: p.CAFile}))
	})
	t.Run("server name", func(t *testing.T) {
		roundTrip(t, k, on(config.TLS{CAFile: p.CAFile, ServerName: "localhost"}))
	})
	t.Run("wrong CA", func(t *testing.T) {
		refused(t, k, on(config.TLS{CAFile: other.CAFile}), "certificate signed by unknown authority", "kafka.tls.ca_file")
	})
	t.Run("system roots", func(t *testing.T) {
		refused(t, k, on(config.TLS{}), "certificate", "kafka.tls.ca_file")
	})
	t.Run("wrong server name", func(t *testing.T) {
		refused(t, k, on(config.TLS{CAFile: p.CAFile, ServerName: "kafka.example"}), "certificate", "kafka.example", "kafka.tls.server_name")
	})
	t.Run("plain client", func(t *testing.T) {
		refused(t, k, config.Kafka{}, "kafka.tls.enabled")
	})
	t.Run("insecure skip verify warns", func(t *testing.T) {
		var log logBuffer
		cfg := on(config.TLS{InsecureSkipVerify: true})
		cfg.Brokers = []string{k.Addr}
		_, tr, err := Kafka(cfg, log.logger())
		if err != nil {
			t.Fatal(err)
		}
		tr.CloseIdleConnections()
		if s := log.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "kafka.tls.insecure_skip_verify") {
			t.Errorf("no warning in the log:\n%s", s)
		}
		roundTrip(t, k, cfg)
	})
}

func TestKafkaMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t, "kafka")
	k := testkit.StartKafka(t, kfake.TLS(p.serverTLS(true)))
	t.Run("client certificate", func(t *testing.T) {
		roundTrip(t, k, config.Kafka{TLS: config.TLS{Enabled: true, CAFile: p.CAFile, CertFile: p.ClientCert, KeyFile: p.ClientKey}})
	})
	t.Run("no client certificate", func(t *testing.T) {
		refused(t, k, config.Kafka{TLS: config.TLS{Enabled: true, CAFile: p.CAFile}}, "certificate required", "kafka.tls.cert_file")
	})
}

// TestKafkaSASLOverTLS runs SCRAM inside TLS, and PLAIN without TLS warns.
func TestKafkaSASLOverTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t, "kafka")
	k := testkit.StartKafka(t, kfake.TLS(p.serverTLS(false)), kfake.EnableSASL(),
		kfake.Superuser(config.SASLScramSHA512, "sluice", "right-pass"), kfake.Superuser(config.SASLPlain, "plain", "right-pass"))
	tlsOn := config.TLS{Enabled: true, CAFile: p.CAFile}
	t.Run("right password", func(t *testing.T) {
		roundTrip(t, k, config.Kafka{TLS: tlsOn, SASL: config.SASL{Mechanism: config.SASLScramSHA512, Username: "sluice", Password: "right-pass"}})
	})
	t.Run("PLAIN over TLS", func(t *testing.T) {
		roundTrip(t, k, config.Kafka{TLS: tlsOn, SASL: config.SASL{Mechanism: config.SASLPlain, Username: "plain", Password: "right-pass"}})
	})
	t.Run("wrong password", func(t *testing.T) {
		refused(t, k, config.Kafka{TLS: tlsOn, SASL: config.SASL{Mechanism: config.SASLScramSHA512, Username: "sluice", Password: "nope"}},
			`as "sluice" with SASL SCRAM-SHA-512 over TLS`, "SASL Authentication Failed", "kafka.sasl.password")
	})
	t.Run("TLS without SASL", func(t *testing.T) {
		refused(t, k, config.Kafka{TLS: tlsOn}, "kafka.sasl.mechanism")
	})
	t.Run("PLAIN without TLS warns", func(t *testing.T) {
		var log logBuffer
		_, tr, err := Kafka(config.Kafka{Brokers: []string{k.Addr}, SASL: config.SASL{Mechanism: "plain", Username: "plain", Password: "x"}}, log.logger())
		if err != nil {
			t.Fatal(err)
		}
		tr.CloseIdleConnections()
		if s := log.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "clear text") {
			t.Errorf("no warning in the log:\n%s", s)
		}
	})
}
