package config

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// Validate reports every bad redis.* value, each naming its key. An empty
// URL is not checked (Redis is then not configured). Errors never repeat
// the URL, which may hold a password. It is safe for concurrent use.
func (r Redis) Validate() error {
	if r.URL == "" {
		return nil
	}
	var errs []error
	u, err := r.ParseURL()
	if err != nil {
		return err
	}
	if u.User != nil {
		if r.Username != "" && u.User.Username() != "" {
			errs = append(errs, errors.New("redis.username: also given in redis.url; give it in one place"))
		}
		if _, ok := u.User.Password(); ok && (r.Password != "" || r.PasswordFile != "") {
			errs = append(errs, errors.New("redis.password: also given in redis.url; give it in one place"))
		}
	}
	errs = append(errs, passwordErrs("redis", r.Password, r.PasswordFile, false)...)
	on := u.Scheme == "rediss" || r.TLS.Enabled
	errs = append(errs, r.TLS.validate("redis.tls", on, "use a rediss:// URL or set redis.tls.enabled: true")...)
	return errors.Join(errs...)
}

// ParseURL checks r.URL as go-redis does and returns it parsed. Its error
// names redis.url but never repeats the URL. It is safe for concurrent use.
func (r Redis) ParseURL() (*url.URL, error) {
	if _, err := redis.ParseURL(r.URL); err != nil {
		return nil, fmt.Errorf("redis.url: %w", redactURLError(err))
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w", redactURLError(err))
	}
	return u, nil
}

// redactURLError drops the URL (and so any password in it) from a
// *url.Error, keeping the reason.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("not a valid URL: %w", ue.Err)
	}
	return err
}
