package security

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/testkit"
)

// redisCall runs SET then GET of key through a client for cfg and returns
// the first error.
func redisCall(t *testing.T, cfg config.Redis, key string) error {
	t.Helper()
	c, err := NewRedis(cfg, discard())
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	defer c.Close()
	ctx := testkit.Context(t, 10*time.Second)
	if err := c.Set(ctx, key, "v", time.Minute).Err(); err != nil {
		return err
	}
	got, err := c.Get(ctx, key).Result()
	if err != nil {
		return err
	}
	if got != "v" {
		t.Fatalf("GET %s = %q", key, got)
	}
	return nil
}

func TestRedisPassword(t *testing.T) {
	srv := testkit.StartRedis(t, testkit.WithPassword("right-pass"))
	plain := "redis://" + srv.Addr + "/0"
	pwFile := filepath.Join(t.TempDir(), "redis-password")
	if err := os.WriteFile(pwFile, []byte("right-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  config.Redis
		want []string // empty: works
	}{
		{"password in URL", config.Redis{URL: srv.URL}, nil},
		{"password key", config.Redis{URL: plain, Password: "right-pass"}, nil},
		{"password file", config.Redis{URL: plain, PasswordFile: pwFile}, nil},
		{"wrong password", config.Redis{URL: plain, Password: "wrong-pass"},
			[]string{"redis: authenticating as default: ", "WRONGPASS"}},
		{"wrong password in URL", config.Redis{URL: "redis://:wrong-pass@" + srv.Addr + "/0"},
			[]string{"redis: authenticating as default: ", "WRONGPASS"}},
		{"no password", config.Redis{URL: plain},
			[]string{"requires a password and none is configured", "redis.password", "NOAUTH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := redisCall(t, tt.cfg, "sluice:test:"+tt.name)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertErr(t, "redis", err, tt.want...)
			var rerr redis.Error
			if !errors.As(err, &rerr) {
				t.Errorf("error %v does not wrap the server's redis.Error", err)
			}
			if strings.Contains(err.Error(), "wrong-pass") {
				t.Errorf("error %q repeats the password", err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("refused after %s", took)
			}
			t.Logf("%v", err)
		})
	}
}

func TestRedisACLUser(t *testing.T) {
	srv := testkit.StartRedis(t, testkit.WithPassword("admin-pass"))
	admin := srv.Client()
	ctx := testkit.Context(t, 10*time.Second)
	// sluice may touch only its own keys.
	if err := admin.Do(ctx, "ACL", "SETUSER", "sluice", "on", ">worker-pass", "~sluice:*", "+@all").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	tests := []struct {
		name string
		cfg  config.Redis
		key  string
		want []string
	}{
		{"user in URL", config.Redis{URL: "redis://sluice:worker-pass@" + srv.Addr + "/0"}, "sluice:a", nil},
		{"username key", config.Redis{URL: "redis://" + srv.Addr + "/0", Username: "sluice", Password: "worker-pass"}, "sluice:b", nil},
		{"wrong password", config.Redis{URL: "redis://sluice:nope@" + srv.Addr + "/0"}, "sluice:c",
			[]string{"redis: authenticating as sluice: ", "WRONGPASS"}},
		{"key outside its pattern", config.Redis{URL: "redis://sluice:worker-pass@" + srv.Addr + "/0"}, "other:d",
			[]string{"redis: ACL user sluice may not do this", "NOPERM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redisCall(t, tt.cfg, tt.key)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertErr(t, "redis", err, tt.want...)
			t.Logf("%v", err)
		})
	}
	// The pipeline path wraps the same way.
	c, err := NewRedis(config.Redis{URL: "redis://sluice:nope@" + srv.Addr + "/0"}, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmds, _ := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "sluice:x")
		return nil
	})
	assertErr(t, "pipelined GET", cmds[0].Err(), "redis: authenticating as sluice: ", "WRONGPASS")
}

func TestRedisOptionsErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Redis
		want string
	}{
		{"empty", config.Redis{}, "redis.url"},
		{"bad scheme", config.Redis{URL: "http://h:1"}, "redis.url"},
		{"bad port", config.Redis{URL: "redis://u:hunter2@h:port/0"}, "redis.url"},
		{"password twice", config.Redis{URL: "redis://:a@h:1/0", Password: "b"}, "redis.password"},
		{"missing ca", config.Redis{URL: "rediss://h:1/0", TLS: config.TLS{CAFile: "/nonexistent/ca.pem"}}, "redis.tls.ca_file"},
		{"ca without tls", config.Redis{URL: "redis://h:1/0", TLS: config.TLS{CAFile: "ca.pem"}}, "redis.tls.ca_file: set but TLS is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RedisOptions(tt.cfg, discard())
			assertErr(t, "RedisOptions", err, tt.want)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}
