package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestSecuritySettingsParse(t *testing.T) {
	c, err := Parse([]byte(`
kafka:
  brokers: [k1:9093]
  tls:
    enabled: true
    ca_file: /etc/sluice/ca.pem
    cert_file: /etc/sluice/client.pem
    key_file: /etc/sluice/client-key.pem
    server_name: kafka.internal
  sasl:
    mechanism: scram-sha-512
    username: sluice
    password_file: /run/secrets/kafka
redis:
  url: rediss://r1:6380/2
  username: sluice
  password: from-file
  tls:
    ca_file: /etc/sluice/redis-ca.pem
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Kafka{
		Brokers: []string{"k1:9093"},
		TLS: TLS{Enabled: true, CAFile: "/etc/sluice/ca.pem", CertFile: "/etc/sluice/client.pem",
			KeyFile: "/etc/sluice/client-key.pem", ServerName: "kafka.internal"},
		SASL:     SASL{Mechanism: "scram-sha-512", Username: "sluice", PasswordFile: "/run/secrets/kafka"},
		Consumer: Default().Kafka.Consumer, // untouched by the file
	}
	if fmt.Sprint(c.Kafka) != fmt.Sprint(want) {
		t.Errorf("kafka = %+v, want %+v", c.Kafka, want)
	}
	if c.Redis.Username != "sluice" || c.Redis.Password != "from-file" || c.Redis.TLS.CAFile != "/etc/sluice/redis-ca.pem" {
		t.Errorf("redis = %+v", c.Redis)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestSecurityErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad mechanism", "kafka:\n  sasl:\n    mechanism: GSSAPI\n    username: u\n    password: p\n",
			[]string{"kafka.sasl.mechanism", "GSSAPI", "SCRAM-SHA-512"}},
		{"no username", "kafka:\n  sasl:\n    mechanism: PLAIN\n    password: p\n", []string{"kafka.sasl.username"}},
		{"no password", "kafka:\n  sasl:\n    mechanism: PLAIN\n    username: u\n",
			[]string{"kafka.sasl.password", "SLUICE_KAFKA_SASL_PASSWORD"}},
		{"two passwords", "kafka:\n  sasl:\n    mechanism: PLAIN\n    username: u\n    password: p\n    password_file: f\n",
			[]string{"kafka.sasl.password_file"}},
		{"credentials without mechanism", "kafka:\n  sasl:\n    username: u\n", []string{"kafka.sasl.mechanism"}},
		{"ca without tls", "kafka:\n  tls:\n    ca_file: ca.pem\n", []string{"kafka.tls.ca_file: set but TLS is off", "kafka.tls.enabled"}},
		{"cert without key", "kafka:\n  tls:\n    enabled: true\n    cert_file: c.pem\n", []string{"kafka.tls.key_file"}},
		{"key without cert", "kafka:\n  tls:\n    enabled: true\n    key_file: k.pem\n", []string{"kafka.tls.cert_file"}},
		{"unknown tls key", "kafka:\n  tls:\n    verify: false\n", []string{"verify"}},
		{"bad redis url", "redis:\n  url: redis://u:hunter2@h:port/0\n", []string{"redis.url"}},
		{"bad redis scheme", "redis:\n  url: http://h:1\n", []string{"redis.url"}},
		{"redis password twice", "redis:\n  url: redis://:a@h:1/0\n  password: b\n", []string{"redis.password: also given in redis.url"}},
		{"redis user twice", "redis:\n  url: redis://u:a@h:1/0\n  username: v\n", []string{"redis.username"}},
		{"redis two passwords", "redis:\n  url: redis://h:1/0\n  password: a\n  password_file: f\n", []string{"redis.password_file"}},
		{"redis ca without tls", "redis:\n  url: redis://h:1/0\n  tls:\n    ca_file: ca.pem\n",
			[]string{"redis.tls.ca_file: set but TLS is off", "rediss://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatalf("no error, want one naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

func TestSecurityValidCombinations(t *testing.T) {
	for _, y := range []string{
		"redis:\n  url: rediss://h:1/0\n",
		"redis:\n  url: redis://h:1/0\n  tls:\n    enabled: true\n    insecure_skip_verify: true\n",
		"redis:\n  url: redis://sluice:pw@h:1/0\n",
		"redis:\n  url: redis://h:1/0\n  username: sluice\n  password_file: /run/secrets/redis\n",
		"redis:\n  url: \"\"\n",
		"kafka:\n  tls:\n    enabled: true\n",
		"kafka:\n  sasl:\n    mechanism: SCRAM-SHA-256\n    username: u\n    password: p\n",
	} {
		c, err := Parse([]byte(y))
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			t.Errorf("%s: %v", y, err)
		}
	}
}

// TestSecretsFromEnvAreRedacted sets the passwords the way a deployment
// would, and checks that printing the config never shows them.
func TestSecretsFromEnvAreRedacted(t *testing.T) {
	c, err := Parse([]byte("kafka:\n  sasl:\n    mechanism: PLAIN\n    username: sluice\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyEnv([]string{"SLUICE_KAFKA_SASL_PASSWORD=kafka-hunter2", "SLUICE_REDIS_PASSWORD=redis-hunter2"}); err != nil {
		t.Fatal(err)
	}
	if c.Kafka.SASL.Password != "kafka-hunter2" || c.Redis.Password != "redis-hunter2" {
		t.Fatalf("env did not set the passwords: kafka %q, redis %q", string(c.Kafka.SASL.Password), string(c.Redis.Password))
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, kv := range c.Keys() {
		printed = append(printed, kv[0]+"="+kv[1])
	}
	printed = append(printed, fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c))
	for _, p := range printed {
		if strings.Contains(p, "hunter2") {
			t.Errorf("a password is printed: %s", p)
		}
	}
	if !strings.Contains(strings.Join(printed, "\n"), "kafka.sasl.password=[redacted]") {
		t.Error("Keys does not list kafka.sasl.password as [redacted]")
	}
}
