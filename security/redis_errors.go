package security

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisError is an error of a Redis client with what it was doing. It
// wraps the original error.
type redisError struct {
	context string
	login   bool // the login failed: no command of a pipeline ran
	err     error
}

func (e *redisError) Error() string { return e.context + ": " + e.err.Error() }
func (e *redisError) Unwrap() error { return e.err }

// errHook puts redisErrors on the errors of a client's commands and dials.
type errHook struct {
	user        string
	hasPassword bool
	tls         bool
}

var _ redis.Hook = errHook{}

func (h errHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil && h.tls && strings.Contains(err.Error(), "certificate") {
			err = &redisError{context: fmt.Sprintf("redis: connecting to %s over TLS (check redis.tls.ca_file and redis.tls.server_name)", addr), err: err}
		}
		return conn, err
	}
}

func (h errHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if werr := h.wrap(err); werr != err {
			cmd.SetErr(werr)
			return werr
		}
		return err
	}
}

func (h errHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		werr := h.wrap(err)
		var re *redisError
		login := errors.As(werr, &re) && re.login
		for _, cmd := range cmds {
			switch cerr := cmd.Err(); {
			case cerr != nil:
				cmd.SetErr(h.wrap(cerr))
			case login:
				// The connection never logged in; go-redis leaves the
				// commands without an error.
				cmd.SetErr(werr)
			}
		}
		return werr
	}
}

// wrap returns err with context when the server refused the login, the ACL
// refused the command or the server refused the TLS client; otherwise err.
// An error wrapped once is not wrapped again (go-redis runs its own login
// commands through the hooks too).
func (h errHook) wrap(err error) error {
	var re *redisError
	if err == nil || errors.As(err, &re) {
		return err
	}
	msg := err.Error()
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		if h.tls && strings.Contains(msg, "remote error: tls") {
			return &redisError{context: "redis: the server refused the TLS connection (check redis.tls.cert_file and redis.tls.key_file)", err: err}
		}
		return err
	}
	msg = rerr.Error()
	switch {
	case strings.HasPrefix(msg, "NOAUTH") && !h.hasPassword:
		return &redisError{context: "redis: the server requires a password and none is configured " +
			"(set redis.password, redis.password_file or user:password in redis.url)", login: true, err: err}
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"),
		strings.HasPrefix(msg, "ERR AUTH"), strings.HasPrefix(msg, "ERR invalid password"):
		return &redisError{context: "redis: authenticating as " + h.user, login: true, err: err}
	case strings.HasPrefix(msg, "NOPERM"):
		return &redisError{context: "redis: ACL user " + h.user + " may not do this", err: err}
	}
	return err
}
