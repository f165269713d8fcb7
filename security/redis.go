package security

import (
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/config"
)

// RedisOptions validates cfg and returns go-redis options for it: the URL's
// address, database and query options, the ACL user and password (from the
// URL or from redis.username / redis.password / redis.password_file), and
// TLS for a rediss:// URL or redis.tls.enabled. Errors name the key and
// never repeat the URL. log (nil: slog.Default) gets the warnings about
// insecure settings. Safe for concurrent use.
func RedisOptions(cfg config.Redis, log *slog.Logger) (*redis.Options, error) {
	log = logger(log)
	if cfg.URL == "" {
		return nil, errors.New("redis.url: must not be empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil { // checked by Validate; kept for safety
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	if cfg.Username != "" {
		opt.Username = cfg.Username
	}
	pw, err := password("redis", cfg.Password, cfg.PasswordFile)
	if err != nil {
		return nil, err
	}
	if pw != "" {
		opt.Password = pw
	}
	if opt.TLSConfig != nil || cfg.TLS.Enabled {
		tcfg := cfg.TLS
		if opt.TLSConfig != nil && opt.TLSConfig.InsecureSkipVerify {
			tcfg.InsecureSkipVerify = true // ?skip_verify=true in the URL
		}
		tc, err := tlsConfig("redis.tls", tcfg, log)
		if err != nil {
			return nil, err
		}
		if tc.ServerName == "" && opt.Network == "tcp" {
			tc.ServerName, _, _ = net.SplitHostPort(opt.Addr)
		}
		opt.TLSConfig = tc
	}
	return opt, nil
}

// NewRedis returns a client for cfg (see RedisOptions) whose errors say
// what failed: "redis: authenticating as sluice: WRONGPASS ...", that a
// password is needed and none is configured, that the ACL user may not run
// a command, or, for a failed connection, the address and the key to check.
// The original error stays wrapped (errors.As finds the redis.Error). It
// does not connect; the first command does, so the caller chooses whether a
// Redis that is down fails start-up (Ping) or only degrades. The client is
// safe for concurrent use; the caller closes it.
func NewRedis(cfg config.Redis, log *slog.Logger) (*redis.Client, error) {
	opt, err := RedisOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	c := redis.NewClient(opt)
	user := opt.Username
	if user == "" {
		user = "default"
	}
	c.AddHook(errHook{user: user, hasPassword: opt.Password != "", tls: opt.TLSConfig != nil})
	return c, nil
}
