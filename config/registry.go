package config

import (
	"fmt"
	"net/url"
)

// Validate checks registry.url: empty (no registry), or an http:// or
// https:// URL, optionally with user:password@ for basic auth. Errors name
// the key and never repeat the URL, which may hold a password. It is safe
// for concurrent use.
func (r Registry) Validate() error {
	if r.URL == "" {
		return nil
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return fmt.Errorf("registry.url: %w", redactURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("registry.url: scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("registry.url: no host")
	}
	return nil
}
