package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

var (
	errLongVarint = errors.New("varint longer than 10 bytes")
	errBadBoolean = errors.New("boolean byte is neither 0 nor 1")
	errNegLength  = errors.New("negative length")
)

// fastReader reads Avro binary values from buf. It accepts exactly what
// goavro accepts and, when guarded, what guardBody accepts too: goavro reads
// varints of any length (bits past the 64th are dropped), the guard stops at
// 10 bytes and bounds array items by budget.
type fastReader struct {
	buf     []byte
	pos     int
	budget  int64 // array items left, as guard.budget
	guarded bool
}

// uvarint reads the raw (zigzag-encoded) bits of an int or long.
func (r *fastReader) uvarint() (uint64, error) {
	if r.pos < len(r.buf) {
		if b := r.buf[r.pos]; b < 0x80 {
			r.pos++
			return uint64(b), nil
		}
	}
	return r.uvarintSlow()
}

func (r *fastReader) uvarintSlow() (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if r.pos >= len(r.buf) {
			return 0, errTruncated
		}
		if shift >= 70 && r.guarded {
			return 0, errLongVarint
		}
		b := r.buf[r.pos]
		r.pos++
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b < 0x80 {
			return v, nil
		}
	}
}

func (r *fastReader) long() (int64, error) {
	u, err := r.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

// int is goavro's int: the varint's low 33 bits, zigzag-decoded to 32.
func (r *fastReader) int() (int32, error) {
	u, err := r.uvarint()
	return int32(uint32(u>>1)) ^ -int32(u&1), err
}

// take returns the next n bytes, checked against what is left first.
func (r *fastReader) take(n int64) ([]byte, error) {
	if n < 0 {
		return nil, errNegLength
	}
	if n > int64(len(r.buf)-r.pos) {
		return nil, errTruncated
	}
	end := r.pos + int(n)
	b := r.buf[r.pos:end:end]
	r.pos = end
	return b, nil
}

// sized reads a length-prefixed string or bytes value.
func (r *fastReader) sized() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

func (r *fastReader) boolean() (bool, error) {
	if r.pos >= len(r.buf) {
		return false, errTruncated
	}
	b := r.buf[r.pos]
	r.pos++
	switch b {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, errBadBoolean
}

func (r *fastReader) float() (float32, error) {
	if len(r.buf)-r.pos < 4 {
		return 0, errTruncated
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(r.buf[r.pos:]))
	r.pos += 4
	return v, nil
}

func (r *fastReader) double() (float64, error) {
	if len(r.buf)-r.pos < 8 {
		return 0, errTruncated
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.buf[r.pos:]))
	r.pos += 8
	return v, nil
}

// blockCount reads the item count of the next array block (0 at the end),
// skipping the byte size of a negative-count block, and applies goavro's
// and the guard's limits before anything is allocated for the items.
func (r *fastReader) blockCount(least int64) (int64, error) {
	count, err := r.long()
	if err != nil || count == 0 {
		return 0, err
	}
	if count < 0 {
		if count == math.MinInt64 {
			return 0, errors.New("bad block count")
		}
		count = -count
		if _, err := r.uvarint(); err != nil {
			return 0, err
		}
	}
	if count > maxBlockCount || count > r.budget {
		return 0, fmt.Errorf("block declares %d items, more than the limit", count)
	}
	if left := len(r.buf) - r.pos; count*least > int64(left) {
		return 0, fmt.Errorf("block declares %d items, more than the %d bytes left hold", count, left)
	}
	r.budget -= count
	return count, nil
}
