package config

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis://user:s3cr3tpass@127.0.0.1:1/0", "redis://user:[redacted]@127.0.0.1:1/0"},
		{"redis://:pw%40x@host:6379/0", "redis://:[redacted]@host:6379/0"},
		{"rediss://u:p@h:6380", "rediss://u:[redacted]@h:6380"},
		{"http://reader:pw@registry:8081/api", "http://reader:[redacted]@registry:8081/api"},
		{"redis://user@host/0", "redis://user@host/0"}, // no password: nothing to hide
		{"redis://host:6379/0", "redis://host:6379/0"},
		{"redis://u:pw@host:port/0", "redis://u:[redacted]@host:port/0"}, // does not parse
		{"not a url", "not a url"},
		{"a,b", "a,b"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	text := `parse "redis://u:pw1@h:x/0": invalid port; dial http://a:pw2@b/c failed`
	if got, want := RedactText(text), `parse "redis://u:[redacted]@h:x/0": invalid port; dial http://a:[redacted]@b/c failed`; got != want {
		t.Errorf("RedactText = %q, want %q", got, want)
	}
	for in, want := range map[string]string{"redis://u:pw@h/0": "pw", "redis://u:p%40w@h/0": "p@w", "redis://u:pw@h:x/0": "pw", "redis://h/0": ""} {
		if got, _ := URLPassword(in); got != want {
			t.Errorf("URLPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeysRedactSecrets(t *testing.T) {
	c := Default()
	c.Redis.URL = "redis://user:s3cr3tpass@127.0.0.1:1/0"
	c.Registry.URL = "http://u:regpass@127.0.0.1:8081"
	c.Kafka.SASL.Password = "saslpass"
	for _, kv := range c.Keys() {
		for _, secret := range []string{"s3cr3tpass", "regpass", "saslpass"} {
			if strings.Contains(kv[1], secret) {
				t.Errorf("%s prints %q", kv[0], kv[1])
			}
		}
	}
}
