package producers

import (
	"fmt"

	"github.com/segmentio/kafka-go"
)

// WriteError is the error of a Write in which some messages were not
// acknowledged. errors.Is and errors.As see its first cause (Err), e.g.
// kafka.MessageTooLargeError, context.Canceled or ErrClosed.
type WriteError struct {
	// Failed is how many messages were not acknowledged, of Total given.
	Failed, Total int
	// PerMessage holds each message's error (nil where it was written)
	// when kafka-go reported per message; it is nil when the call failed as
	// a whole (context ended, a message too large, unknown topic, closed
	// writer), and then every message counts as failed.
	PerMessage kafka.WriteErrors
	// Err is the first error.
	Err error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("writing messages: %d of %d failed: %v", e.Failed, e.Total, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// MessageFailed reports whether message i of the Write was not acknowledged.
func (e *WriteError) MessageFailed(i int) bool {
	if e.PerMessage == nil {
		return true
	}
	return e.PerMessage[i] != nil
}
