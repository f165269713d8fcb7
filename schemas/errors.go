package schemas

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sluice-ml/sluice/dlq"
)

var (
	// ErrUnknownSchema means the registry answered that the schema id,
	// subject or version does not exist (HTTP 404). Retrying does not help: a
	// record framed with such an id belongs on the dead-letter topic.
	ErrUnknownSchema = errors.New("schemas: unknown schema")
	// ErrRegistryUnavailable means the registry could not be asked: the
	// connection failed or timed out, or it answered 5xx, 408, 429, 401 or
	// 403. Callers retry; a record must never be dead-lettered for it.
	ErrRegistryUnavailable = errors.New("schemas: schema registry unavailable")
	// ErrEmpty means a record has no bytes at all (a tombstone).
	ErrEmpty = errors.New("schemas: empty record")
	// ErrTooLarge means a record is longer than the decoder's byte limit.
	ErrTooLarge = errors.New("schemas: record larger than the limit")
)

// DecodeError is a record that cannot be read and never will be: the caller
// dead-letters it under Class. Err says why and wraps the sentinel where one
// exists (ErrEmpty, ErrShortFrame, ErrBadMagic, ErrUnknownSchema,
// ErrTooLarge).
type DecodeError struct {
	Class dlq.Class
	Err   error
}

func (e *DecodeError) Error() string { return string(e.Class) + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(class dlq.Class, err error) *DecodeError {
	return &DecodeError{Class: class, Err: err}
}

// APIError is a non-2xx answer of a schema registry, with Confluent's error
// body when it sent one. errors.Is maps it onto ErrUnknownSchema (404) or
// ErrRegistryUnavailable (5xx, 408, 429, 401, 403); other statuses, such as
// 409 (incompatible schema) or 422 (invalid schema), match neither.
type APIError struct {
	StatusCode int    `json:"-"`          // HTTP status
	ErrorCode  int    `json:"error_code"` // Confluent code such as 40401, 40403, 42201
	Message    string `json:"message"`
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("schema registry: http %d", e.StatusCode)
	}
	return fmt.Sprintf("schema registry: http %d: %s (error code %d)", e.StatusCode, e.Message, e.ErrorCode)
}

// Unwrap returns the sentinel error the status maps onto, or nil.
func (e *APIError) Unwrap() error {
	switch {
	case e.StatusCode == http.StatusNotFound:
		return ErrUnknownSchema
	case e.StatusCode >= 500,
		e.StatusCode == http.StatusRequestTimeout,
		e.StatusCode == http.StatusTooManyRequests,
		e.StatusCode == http.StatusUnauthorized,
		e.StatusCode == http.StatusForbidden:
		return ErrRegistryUnavailable
	}
	return nil
}
