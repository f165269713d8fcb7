package consumers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/dlq"
)

// Headers that DeadLetter adds. Their values are UTF-8 strings.
const (
	HeaderErrorClass      = "sluice.error.class"
	HeaderErrorMessage    = "sluice.error.message"
	HeaderSourceTopic     = "sluice.source.topic"
	HeaderSourcePartition = "sluice.source.partition"
	HeaderSourceOffset    = "sluice.source.offset"
	HeaderConsumerGroup   = "sluice.consumer.group"
	// HeaderOriginalSize and HeaderOriginalSHA256 are added by
	// ShrinkDeadLetter when the value is cut to a prefix: the original
	// value's length in bytes (decimal) and its SHA-256 (lowercase hex).
	HeaderOriginalSize   = "sluice.original.size"
	HeaderOriginalSHA256 = "sluice.original.sha256"
	// HeaderOriginalHeaders is added by ShrinkDeadLetter when the original
	// message's own headers had to be left out too: how many there were.
	HeaderOriginalHeaders = "sluice.original.headers"
)

// maxErrorMessage caps the sluice.error.message header, so that a long error
// cannot push the dead letter over the broker's message size limit.
const maxErrorMessage = 1024

// ErrNotDeadLetter is returned by ParseDeadLetter for a message without the
// dead-letter headers.
var ErrNotDeadLetter = errors.New("consumers: not a dead letter")

// DeadLetterInfo is what the dead-letter headers say about a message.
type DeadLetterInfo struct {
	Class           dlq.Class // one of the fixed error classes (see package dlq)
	Message         string    // the error text, at most 1 KiB
	SourceTopic     string
	SourcePartition int
	SourceOffset    int64
	ConsumerGroup   string
	// OriginalSize is the original value's length when the dead letter
	// carries only a prefix of it (-1: the value is whole), and
	// OriginalSHA256 its SHA-256 in hex.
	OriginalSize   int
	OriginalSHA256 string
}

// DeadLetter builds the dead letter for msg: the same Key and Value (shared,
// not copied: do not modify them), the original headers followed by the
// sluice.* headers, and Topic set to dlqTopic. Original headers with the
// sluice.* names (a dead letter that failed again) are replaced, not
// repeated. Time is left zero so the writer stamps the time of dead
// lettering: retention counts from when the letter was written. A writer
// with a fixed topic rejects messages that name one; pass dlqTopic "" for
// such a writer. It is safe for concurrent use.
func DeadLetter(msg kafka.Message, group string, class dlq.Class, err error, dlqTopic string) kafka.Message {
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
	info := DeadLetterInfo{OriginalSize: -1}
	var part, off, size string
	seen := false
	for _, h := range msg.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderErrorClass:
			info.Class, seen = dlq.Class(v), true
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
		case HeaderOriginalSize:
			size = v
		case HeaderOriginalSHA256:
			info.OriginalSHA256 = v
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
	if size != "" {
		if info.OriginalSize, err = strconv.Atoi(size); err != nil {
			return DeadLetterInfo{}, fmt.Errorf("parsing dead letter: %s: %w", HeaderOriginalSize, err)
		}
	}
	return info, nil
}

// ShrinkDeadLetter returns dl made smaller by at least by bytes (counted as
// the lengths of key, value and header names and values) as far as its
// value and the original headers allow, for a dead letter that would not
// fit the dead-letter topic: its value is cut to a
// prefix, and headers record the original value's size and SHA-256
// (HeaderOriginalSize, HeaderOriginalSHA256); only if cutting the whole
// value is not enough are the original message's own headers left out too
// (HeaderOriginalHeaders says how many). The sluice.* headers that say what
// failed and where are always kept. A dead letter shrunk before keeps its
// first original size and digest. dl's slices are not modified. Safe for
// concurrent use.
func ShrinkDeadLetter(dl kafka.Message, by int) kafka.Message {
	hs := make([]kafka.Header, 0, len(dl.Headers)+3)
	truncated := false
	for _, h := range dl.Headers {
		if h.Key == HeaderOriginalSize {
			truncated = true
		}
	}
	if !truncated {
		sum := sha256.Sum256(dl.Value)
		hs = append(hs,
			kafka.Header{Key: HeaderOriginalSize, Value: strconv.AppendInt(nil, int64(len(dl.Value)), 10)},
			kafka.Header{Key: HeaderOriginalSHA256, Value: []byte(hex.EncodeToString(sum[:]))})
	}
	// What the new headers add, with room for their framing.
	by += headersLen(hs) + len(hs)*16
	keep := max(len(dl.Value)-by, 0)
	by -= len(dl.Value) - keep
	out := dl
	out.Value = dl.Value[:keep:keep]
	if by > 0 {
		var own []kafka.Header
		dropped := 0
		for _, h := range dl.Headers {
			if isSluiceHeader(h.Key) {
				own = append(own, h)
			} else {
				dropped++
			}
		}
		hs = append(hs, kafka.Header{Key: HeaderOriginalHeaders, Value: strconv.AppendInt(nil, int64(dropped), 10)})
		out.Headers = append(own, hs...)
		return out
	}
	out.Headers = append(append(hs[:0:0], dl.Headers...), hs...)
	return out
}

func headersLen(hs []kafka.Header) int {
	n := 0
	for _, h := range hs {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

func isSluiceHeader(k string) bool {
	return isDeadLetterHeader(k) || k == HeaderOriginalSize || k == HeaderOriginalSHA256 || k == HeaderOriginalHeaders
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
