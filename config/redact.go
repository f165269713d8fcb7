package config

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a secret wherever sluice prints one.
const Redacted = "[redacted]"

// userinfoRE finds the password of a URL's user information in free text:
// scheme://user:password@ (user may be empty). The password stops at the
// first character a URL would have escaped in it.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:]*):([^\s/?#@]*)@`)

// RedactURL returns s with the password of its user information (redis://
// user:password@host, http://user:password@registry) replaced by
// [redacted]; the user name stays, so an operator can still see which
// account is used. Text that does not parse as a URL has every
// scheme://user:password@ in it redacted the same way. It is safe for
// concurrent use.
func RedactURL(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTEDMARK")
			return strings.Replace(u.String(), "REDACTEDMARK", Redacted, 1)
		}
		return s
	}
	return RedactText(s)
}

// RedactText redacts the password of every URL in free text (an error
// message, a log line): scheme://user:password@ becomes
// scheme://user:[redacted]@. It is safe for concurrent use.
func RedactText(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	return userinfoRE.ReplaceAllString(s, "$1:"+Redacted+"@")
}

// URLPassword returns the password in the user information of URL s, if it
// has one. It is safe for concurrent use.
func URLPassword(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if m := userinfoRE.FindStringSubmatch(s); m != nil && m[2] != "" {
			return m[2], true
		}
		return "", false
	}
	return u.User.Password()
}
