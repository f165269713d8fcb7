package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mark is in every secret of these tests; no output may contain it.
const mark = "s3cr3tMARK"

// `sluice config` prints every key with its secrets redacted, wherever
// they came from: the file, a password file, a SLUICE_* variable or a
// flag, in a URL or in a password key; and a config it refuses is refused
// without printing them either.
func TestConfigNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pwFile := write("redis-password", "file-"+mark+"\n")
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		flags []string
		// want are lines the output must hold (redacted values).
		want []string
		// fails: the config is refused; the error must name wantErr.
		wantErr string
	}{
		{name: "in the file", yaml: `
redis:
  url: redis://sluice:url-` + mark + `@127.0.0.1:6379/0
registry:
  url: http://reader:reg-` + mark + `@127.0.0.1:8081
kafka:
  sasl:
    mechanism: PLAIN
    username: sluice
    password: sasl-` + mark + `
`, want: []string{"redis://sluice:[redacted]@127.0.0.1:6379/0", "http://reader:[redacted]@127.0.0.1:8081", "kafka.sasl.password                [redacted]"}},
		{name: "from variables", env: map[string]string{
			"SLUICE_REDIS_URL":            "rediss://u:env-url-" + mark + "@redis.example:6380/1",
			"SLUICE_KAFKA_SASL_PASSWORD":  "env-sasl-" + mark,
			"SLUICE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "SLUICE_KAFKA_SASL_USERNAME": "sluice",
			"SLUICE_REGISTRY_URL": "https://u:env-reg-" + mark + "@registry.example",
		}, want: []string{"rediss://u:[redacted]@redis.example:6380/1", "https://u:[redacted]@registry.example"}},
		{name: "password variable and file", env: map[string]string{
			"SLUICE_REDIS_PASSWORD": "env-pw-" + mark,
		}, yaml: "kafka:\n  sasl:\n    mechanism: PLAIN\n    username: u\n    password_file: " + pwFile + "\n",
			want: []string{"redis.password                     [redacted]", pwFile}},
		{name: "redis password file", yaml: "redis:\n  password_file: " + pwFile + "\n", want: []string{pwFile}},
		{name: "flags", flags: []string{"--redis-url", "redis://:flag-" + mark + "@127.0.0.1:1/0", "--registry-url", "http://u:flag-reg-" + mark + "@127.0.0.1:2"},
			want: []string{"redis://:[redacted]@127.0.0.1:1/0", "http://u:[redacted]@127.0.0.1:2"}},
		{name: "a URL that does not parse", yaml: "redis:\n  url: redis://u:bad-" + mark + "@127.0.0.1:port/0\n", wantErr: "redis.url"},
		{name: "a registry URL that does not parse", yaml: "registry:\n  url: http://u:bad-" + mark + "@[::1/\n", wantErr: "registry.url"},
		{name: "a password twice", yaml: "redis:\n  url: redis://u:twice-" + mark + "@127.0.0.1:1/0\n  password: again-" + mark + "\n", wantErr: "redis.password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SLUICE_REDIS_URL", "SLUICE_REDIS_PASSWORD", "SLUICE_KAFKA_SASL_PASSWORD", "SLUICE_KAFKA_SASL_MECHANISM", "SLUICE_KAFKA_SASL_USERNAME", "SLUICE_REGISTRY_URL"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{}, tt.flags...)
			if tt.yaml != "" {
				args = append(args, "--config", write(strings.ReplaceAll(tt.name, " ", "-")+".yaml", tt.yaml))
			}
			var out bytes.Buffer
			err := runConfig(args, &out)
			printed := out.String()
			if err != nil {
				printed += "\n" + err.Error()
			}
			// What main prints for a refused config goes through its
			// redactor too.
			if tt.wantErr != "" {
				if top := run(append([]string{"config"}, args...)); top != nil {
					printed += "\n" + top.Error()
				}
			}
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatalf("sluice config: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(printed, w) {
					t.Errorf("output lacks %q:\n%s", w, printed)
				}
			}
			if i := strings.Index(printed, mark); i >= 0 {
				t.Errorf("sluice config prints a secret: ...%s...", printed[max(0, i-80):min(len(printed), i+40)])
			}
		})
	}
}

// `sluice config` prints every route's effective settings: a file's
// routes, or the one route built from the top-level keys.
func TestConfigPrintsEveryRoute(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(p, []byte("routes:\n  - {name: fraud, input_topic: payments, output_topic: fraud-scores}\n  - {name: churn, input_topic: payments, output_topic: churn-scores, model: churn, batch: {max_batch_size: 16}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--config", p}, []string{"routes[0].group", "sluice-fraud", "routes[1].model ", "churn", "routes[1].dlq_topic", "payments.dlq", "routes[1].batch.max_batch_size"}},
		{[]string{"--input-topic", "clicks"}, []string{"routes[0].name", "default", "routes[0].input_topic", "clicks", "routes[0].dlq_topic", "clicks.dlq"}},
	} {
		var out bytes.Buffer
		if err := runConfig(tt.args, &out); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("sluice config %v does not print %q:\n%s", tt.args, w, out.String())
			}
		}
	}
	if strings.Contains(mustConfig(t, "--config", p), "routes[2]") {
		t.Error("a third route printed")
	}
}

func mustConfig(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := runConfig(args, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
