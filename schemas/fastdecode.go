package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"
)

var errFastPanic = errors.New("fast avro decoder panicked")

// decode reads one body into a map. It allocates the map, the strings, the
// arrays and the boxed values; bytes and fixed values share body's memory,
// as goavro's do.
func (fd *fastDecoder) decode(body []byte) (map[string]any, error) {
	vals := make([]any, len(fd.fields))
	if err := fd.decodeValues(body, vals); err != nil {
		return nil, err
	}
	rec := make(map[string]any, len(fd.fields))
	for i := range fd.fields {
		rec[fd.fields[i].name] = vals[i]
	}
	return rec, nil
}

// decodeValues reads one body into vals, one value per field in schema
// order (len(vals) == len(fd.fields)).
func (fd *fastDecoder) decodeValues(body []byte, vals []any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errFastPanic, p)
		}
	}()
	r := fastReader{buf: body, budget: int64(len(body)) + maxZeroSizeItems, guarded: fd.guarded}
	for i := range fd.fields {
		f := &fd.fields[i]
		v, err := r.value(&f.op)
		if err != nil {
			return fmt.Errorf("field %s at byte %d: %w", f.name, r.pos, err)
		}
		vals[i] = v
	}
	if r.pos != len(body) {
		return fmt.Errorf("%d trailing bytes after the record", len(body)-r.pos)
	}
	return nil
}

// epoch is where goavro counts dates from.
var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// value reads one value of op, converted exactly as goavro converts it.
func (r *fastReader) value(op *fastOp) (any, error) {
	switch op.code {
	case opDouble:
		return r.double()
	case opString:
		b, err := r.sized()
		return string(b), err
	case opLong:
		return r.long()
	case opNullable:
		i, err := r.long()
		switch {
		case err != nil:
			return nil, err
		case i == op.nullIndex:
			return nil, nil
		case i != 1-op.nullIndex:
			return nil, fmt.Errorf("union index %d out of range", i)
		}
		return r.value(op.elem)
	case opTimestampMillis:
		ms, err := r.long()
		sec := ms / 1e3
		return time.Unix(sec, (ms-sec*1e3)*1e6).UTC(), err
	case opBoolean:
		return r.boolean()
	case opInt:
		return r.int()
	case opFloat:
		return r.float()
	case opBytes:
		return r.sized()
	case opEnum:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(op.symbols)) {
			return nil, fmt.Errorf("enum index %d out of range", i)
		}
		return op.symbols[i], nil
	case opFixed:
		return r.take(int64(op.size))
	case opArray:
		return r.array(op)
	case opMap:
		return r.mapValue(op)
	case opNull:
		return nil, nil
	case opTimestampMicros:
		us, err := r.long()
		sec := us / 1e6
		return time.Unix(sec, (us-sec*1e6)*1e3).UTC(), err
	case opDate:
		days, err := r.int()
		return epoch.AddDate(0, 0, int(days)).UTC(), err
	case opTimeMillis:
		ms, err := r.int()
		return time.Duration(ms) * time.Millisecond, err
	case opTimeMicros:
		us, err := r.long()
		return time.Duration(us) * time.Microsecond, err
	}
	return nil, fmt.Errorf("unknown opcode %d", op.code)
}

// array reads the blocks of an array, as goavro does: sized by the first
// block's count, never nil. An array of floats or doubles reads into a
// []float32 or []float64 (see numbers).
func (r *fastReader) array(op *fastOp) (any, error) {
	count, err := r.blockCount(op.least)
	if err != nil {
		return nil, err
	}
	switch op.elem.code {
	case opFloat:
		return readNumbers(r, count, op.least, r.floats)
	case opDouble:
		return readNumbers(r, count, op.least, r.doubles)
	}
	items := make([]any, 0, count)
	for count != 0 {
		for range count {
			v, err := r.value(op.elem)
			if err != nil {
				return nil, fmt.Errorf("array item %d: %w", len(items), err)
			}
			items = append(items, v)
		}
		if count, err = r.blockCount(op.least); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// mapValue reads the blocks of a map, as goavro does: a key given twice
// is an error; never nil.
func (r *fastReader) mapValue(op *fastOp) (any, error) {
	count, err := r.blockCount(op.least)
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, count)
	for count != 0 {
		for range count {
			k, err := r.sized()
			if err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			v, err := r.value(op.elem)
			if err != nil {
				return nil, fmt.Errorf("map value %q: %w", k, err)
			}
			if _, dup := m[string(k)]; dup {
				return nil, fmt.Errorf("duplicate map key %q", k)
			}
			m[string(k)] = v
		}
		if count, err = r.blockCount(op.least); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// readNumbers reads the blocks of an array of numbers, the first of count
// items, with one allocation for the array (per block that outgrows it),
// none per item.
func readNumbers[T float32 | float64](r *fastReader, count, least int64, read func([]T, int) []T) ([]T, error) {
	items := make([]T, 0, count)
	var err error
	for count != 0 {
		// blockCount checked that the bytes left hold count items.
		items = read(items, int(count))
		if count, err = r.blockCount(least); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// floats appends n floats, which the bytes left must hold: embeddings and
// other feature vectors, read without a call per item (on a little-endian
// machine, Avro's byte order, in one copy).
func (r *fastReader) floats(items []float32, n int) []float32 {
	b := r.buf[r.pos : r.pos+4*n]
	r.pos += len(b)
	if n == 0 {
		return items
	}
	start := len(items)
	items = slices.Grow(items, n)[:start+n]
	if littleEndian {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&items[start])), 4*n), b)
		return items
	}
	for i := range n {
		items[start+i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return items
}

// littleEndian is whether this machine stores numbers as Avro encodes
// them.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// doubles appends n doubles, which the bytes left must hold.
func (r *fastReader) doubles(items []float64, n int) []float64 {
	b := r.buf[r.pos : r.pos+8*n]
	for i := 0; i < len(b); i += 8 {
		items = append(items, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
	}
	r.pos += len(b)
	return items
}
