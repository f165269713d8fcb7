package keyerr

import (
	"errors"
	"fmt"
)

// Error is a bad value of one configuration key.
type Error struct {
	Key string // dotted, from the config the error was made or put under
	Msg string // what is wrong, with the value it got
	Err error  // a package's sentinel it matches (errors.Is), or nil
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// Unwrap returns the sentinel the error was made with, if any.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error for key with the message format makes.
func New(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Wrap is New for an error that errors.Is also matches with sentinel.
func Wrap(sentinel error, key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// Under puts section in front of the key of every *Error in err, which may
// be one made by errors.Join; another error is wrapped as section's. It
// returns nil for a nil err.
func Under(section string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e == err {
		return &Error{Key: section + "." + e.Key, Msg: e.Msg, Err: e.Err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = Under(section, e)
		}
		return errors.Join(out...)
	}
	return fmt.Errorf("%s: %w", section, err)
}

// List collects the errors of a Validate; Err joins them (nil if none).
type List struct {
	errs []error
}

// Check adds an *Error for key when ok is false.
func (l *List) Check(ok bool, key, format string, args ...any) {
	if !ok {
		l.errs = append(l.errs, New(key, format, args...))
	}
}

// Add adds err (nil is ignored), under section when section is not "".
func (l *List) Add(section string, err error) {
	if err == nil {
		return
	}
	if section != "" {
		err = Under(section, err)
	}
	l.errs = append(l.errs, err)
}

// Err returns every error added, joined, or nil.
func (l *List) Err() error { return errors.Join(l.errs...) }

// Map rewrites the key of every *Error in err (which may be one made by
// errors.Join) with fn, dropping the errors whose key fn refuses (ok
// false); another error is kept as it is. It returns nil when nothing is
// left.
func Map(err error, fn func(key string) (string, bool)) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if m := Map(e, fn); m != nil {
				out = append(out, m)
			}
		}
		return errors.Join(out...)
	}
	var e *Error
	if errors.As(err, &e) && e == err {
		key, ok := fn(e.Key)
		if !ok {
			return nil
		}
		return &Error{Key: key, Msg: e.Msg, Err: e.Err}
	}
	return err
}
