package security

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestKafkaSASL(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{config.SASLPlain, config.SASLScramSHA256, config.SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			k := testkit.StartKafka(t, kfake.EnableSASL(), kfake.Superuser(mech, "sluice", "right-pass"))
			sasl := config.SASL{Mechanism: mech, Username: "sluice", Password: "right-pass"}
			t.Run("right password", func(t *testing.T) {
				roundTrip(t, k, config.Kafka{SASL: sasl})
			})
			t.Run("wrong password", func(t *testing.T) {
				bad := sasl
				bad.Password = "wrong-pass"
				refused(t, k, config.Kafka{SASL: bad},
					`as "sluice" with SASL `+mech, "SASL Authentication Failed", "kafka.sasl.password")
			})
			t.Run("unknown user", func(t *testing.T) {
				bad := sasl
				bad.Username = "mallory"
				refused(t, k, config.Kafka{SASL: bad}, `as "mallory"`, "SASL Authentication Failed")
			})
			t.Run("no credentials", func(t *testing.T) {
				refused(t, k, config.Kafka{}, k.Addr, "kafka.sasl.mechanism")
			})
		})
	}
}

// TestKafkaPasswordSources reads the password from a file and from
// SLUICE_KAFKA_SASL_PASSWORD through config's env override.
func TestKafkaPasswordSources(t *testing.T) {
	t.Parallel()
	k := testkit.StartKafka(t, kfake.EnableSASL(), kfake.Superuser(config.SASLScramSHA256, "sluice", "from-elsewhere"))
	t.Run("password_file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "kafka-password")
		if err := os.WriteFile(f, []byte("from-elsewhere\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, k, config.Kafka{SASL: config.SASL{Mechanism: "scram-sha-256", Username: "sluice", PasswordFile: f}})
	})
	t.Run("env", func(t *testing.T) {
		c, err := config.Parse([]byte("kafka:\n  brokers: [" + k.Addr + "]\n  sasl:\n    mechanism: SCRAM-SHA-256\n    username: sluice\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ApplyEnv([]string{"SLUICE_KAFKA_SASL_PASSWORD=from-elsewhere"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Kafka.Validate(); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, k, c.Kafka)
	})
	t.Run("missing file", func(t *testing.T) {
		_, _, err := Kafka(config.Kafka{Brokers: []string{k.Addr}, SASL: config.SASL{
			Mechanism: "PLAIN", Username: "sluice", PasswordFile: filepath.Join(t.TempDir(), "nope")}}, discard())
		assertErr(t, "Kafka", err, "kafka.sasl.password_file", "no such file")
	})
}
