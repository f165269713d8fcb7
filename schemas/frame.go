package schemas

import (
	"encoding/binary"
	"errors"
)

// MagicByte is the first byte of every Confluent-framed record.
const MagicByte = 0

// HeaderSize is the length of the Confluent frame header: the magic byte and
// the 4-byte big-endian schema id.
const HeaderSize = 5

var (
	// ErrShortFrame means a record is shorter than the 5-byte frame header.
	ErrShortFrame = errors.New("schemas: record shorter than the 5-byte confluent header")
	// ErrBadMagic means a record does not start with the zero magic byte, so
	// it was not written by a Confluent-compatible serializer.
	ErrBadMagic = errors.New("schemas: record does not start with the confluent magic byte 0")
)

// AppendFrame appends the Confluent header for schema id, then body, to dst
// and returns the extended slice. It is safe for concurrent use.
func AppendFrame(dst []byte, id int32, body []byte) []byte {
	dst = append(dst, MagicByte)
	dst = binary.BigEndian.AppendUint32(dst, uint32(id))
	return append(dst, body...)
}

// ParseFrame splits a Confluent-framed record into its schema id and Avro
// body. The body aliases b. A record whose first byte is not MagicByte gives
// ErrBadMagic; one that starts with it but is shorter than HeaderSize (or is
// empty) gives ErrShortFrame. It is safe for concurrent use.
func ParseFrame(b []byte) (id int32, body []byte, err error) {
	if len(b) > 0 && b[0] != MagicByte {
		return 0, nil, ErrBadMagic
	}
	if len(b) < HeaderSize {
		return 0, nil, ErrShortFrame
	}
	return int32(binary.BigEndian.Uint32(b[1:HeaderSize])), b[HeaderSize:], nil
}
