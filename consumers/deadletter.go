package consumers

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
)

// Headers that DeadLetter adds. Their values are UTF-8 strings.
const (
	HeaderErrorClass      = "sluice.error.class"
	HeaderErrorMessage    = "sluice.error.message"
	HeaderSourceTopic     = "sluice.source.topic"
	HeaderSourcePartition = "sluice.source.partition"
	HeaderSourceOffset    = "sluice.source.offset"
	HeaderConsumerGroup   = "sluice.consumer.group"
)

// maxErrorMessage caps the sluice.error.message header, so that a long error
// cannot push the dead letter over the broker's message size limit.
const maxErrorMessage = 1024

// ErrNotDeadLetter is returned by ParseDeadLetter for a message without the
// dead-letter headers.
var ErrNotDeadLetter = errors.New("consumers: not a dead letter")

// DeadLetterInfo is what the dead-letter headers say about a message.
type DeadLetterInfo struct {
	Class           string // one of the fixed error classes (empty, decode, ...)
	Message         string // the error text, at most 1 KiB
	SourceTopic     string
	SourcePartition int
	SourceOffset    int64
	ConsumerGroup   string
}

// DeadLetter builds the dead letter for msg: the same Key and Value (shared,
// not copied: do not modify them), the original headers followed by the
// sluice.* headers, and Topic set to dlqTopic. Original headers with the
// sluice.* names (a dead letter that failed again) are replaced, not
// repeated. Time is left zero so the writer stamps the time of dead
// lettering: retention counts from when the letter was written. A writer
// with a fixed topic rejects messages that name one; pass dlqTopic "" for
// such a writer. It is safe for concurrent use.
func DeadLetter(msg kafka.Message, group, class string, err error, dlqTopic string) kafka.Message {
	text := ""
	if err != nil {
		text = truncateUTF8(err.Error(), maxErrorMessage)
	}
	hs := make([]kafka.Header, 0, len(msg.Headers)+6)
	for _, h := range msg.Headers {
		if !isDeadLetterHeader(h.Key) {
			hs = append(hs, h)
		}
	}
	hs = append(hs,
		kafka.Header{Key: HeaderErrorClass, Value: []byte(class)},
		kafka.Header{Key: HeaderErrorMessage, Value: []byte(text)},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(msg.Topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(msg.Partition), 10)},
		kafka.Header{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, msg.Offset, 10)},
		kafka.Header{Key: HeaderConsumerGroup, Value: []byte(group)},
	)
	return kafka.Message{Topic: dlqTopic, Key: msg.Key, Value: msg.Value, Headers: hs}
}

// ParseDeadLetter reads the dead-letter headers of msg (the last one wins
// where a name repeats). It returns ErrNotDeadLetter when the class header
// is missing, and an error naming the header when a number does not parse.
// It is safe for concurrent use.
func ParseDeadLetter(msg kafka.Message) (DeadLetterInfo, error) {
	var info DeadLetterInfo
	var part, off string
	seen := false
	for _, h := range msg.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderErrorClass:
			info.Class, seen = v, true
		case HeaderErrorMessage:
			info.Message = v
		case HeaderSourceTopic:
			info.SourceTopic = v
		case HeaderSourcePartition:
			part = v
		case HeaderSourceOffset:
			off = v
		case HeaderConsumerGroup:
			info.ConsumerGroup = v
		}
	}
	if !seen {
		return DeadLetterInfo{}, ErrNotDeadLetter
	}
	p, err := strconv.Atoi(part)
	if err != nil {
		return DeadLetterInfo{}, fmt.Errorf("parsing dead letter: %s: %w", HeaderSourcePartition, err)
	}
	o, err := strconv.ParseInt(off, 10, 64)
	if err != nil {
		return DeadLetterInfo{}, fmt.Errorf("parsing dead letter: %s: %w", HeaderSourceOffset, err)
	}
	info.SourcePartition, info.SourceOffset = p, o
	return info, nil
}

func isDeadLetterHeader(k string) bool {
	switch k {
	case HeaderErrorClass, HeaderErrorMessage, HeaderSourceTopic,
		HeaderSourcePartition, HeaderSourceOffset, HeaderConsumerGroup:
		return true
	}
	return false
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
