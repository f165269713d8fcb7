package inference

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/sluice-ml/sluice/dlq"
)

// MapError says why one record could not become a tensor row. The record
// is bad, not the system: callers dead-letter it under Class.
type MapError struct {
	Field  string    // the record field that failed
	Class  dlq.Class // why, as a dead-letter class
	Detail string    // what was wrong, for people
}

// Error implements error.
func (e *MapError) Error() string {
	return fmt.Sprintf("field %q: %s: %s", e.Field, e.Class, e.Detail)
}

func mapErr(field string, class dlq.Class, format string, args ...any) *MapError {
	return &MapError{Field: field, Class: class, Detail: fmt.Sprintf(format, args...)}
}

// ErrNotFloat32 is returned by MapRow, MapFields and Model.Infer for a
// signature with an input tensor that is not float32: its rows are Rows.
var ErrNotFloat32 = errors.New("inference: the signature has inputs that are not float32 (map into a Row)")

// Row is one event's input to a model, laid out as its signature's input
// tensors take it: each numeric input's elements in the tensor's own type,
// and each string input's elements. MapFieldsInto and MapRecordInto fill
// it (reusing its memory), Model.InferRows reads it. The zero Row is empty.
// A Row is not safe for concurrent use.
type Row struct {
	num    []byte
	str    []string
	pooled *[]byte // num's memory, when it came from rowPool
}

// rowPool keeps the memory of released rows for the next ones.
var rowPool sync.Pool

// fit sizes r for p, reusing its memory, or a released row's.
func (r *Row) fit(p *mapPlan) {
	if cap(r.num) < p.numBytes {
		r.Release()
		if b, ok := rowPool.Get().(*[]byte); ok {
			if cap(*b) >= p.numBytes {
				r.num, r.pooled = (*b)[:p.numBytes], b
			} else {
				rowPool.Put(b)
			}
		}
		if r.pooled == nil {
			r.num = make([]byte, p.numBytes)
		}
	}
	r.num = r.num[:p.numBytes]
	if cap(r.str) < p.strs {
		r.str = make([]string, p.strs)
	}
	r.str = r.str[:p.strs]
}

// Release hands r's memory over to the rows mapped next and empties r: call
// it once nothing reads r any more (Model.InferRows has copied it). It is
// safe to call on an empty Row.
func (r *Row) Release() {
	if r.num != nil {
		b := r.pooled
		if b == nil {
			b = new([]byte)
		}
		*b = r.num[:0]
		rowPool.Put(b)
	}
	clear(r.str)
	r.num, r.str, r.pooled = nil, r.str[:0], nil
}

// float32Bytes views f's memory as bytes (the tensor layout of a float32
// input).
func float32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}

// allFinite32 reports whether no element of x is NaN or ±Inf: those whose
// exponent bits are all ones. It tests two elements per step without a
// branch: adding one to a full exponent field (masked, sign off) carries
// into the lane's top bit, which no finite value's sum reaches, and a lane
// never carries into the next.
func allFinite32(x []float32) bool {
	const exp, one, top = 0x7f8000007f800000, 0x0080000000800000, 0x8000000080000000
	b := float32Bytes(x)
	var bad uint64
	for ; len(b) >= 8; b = b[8:] {
		bad |= binary.NativeEndian.Uint64(b)&exp + one
	}
	if len(b) == 4 {
		bad |= uint64(binary.NativeEndian.Uint32(b))&exp + one
	}
	return bad&top == 0
}

// MapRow writes the tensor row of one record into dst[:s.Width()], for a
// signature whose inputs are all float32 (see Float32Only; MapRecordInto
// maps any signature). rec is a decoded Avro record (goavro native form:
// int32, int64, float32, float64, bool, string, []any, nil, and
// single-branch union maps such as {"double": 1.5}; int and
// []float32/[]float64 are accepted too). A record that does not fit returns
// a *MapError; dst is then partly written. MapRow does not allocate unless
// it fails. It is safe for concurrent use as long as each caller has its
// own dst.
func (s *Signature) MapRow(rec map[string]any, dst []float32) error {
	p, err := s.float32Plan(dst)
	if err != nil {
		return err
	}
	return p.mapRecord(rec, float32Bytes(dst[:p.width]), nil)
}

// MapFields is MapRow for a record given as values in the order of the
// names that Positions turned into pos: the same checks and columns,
// without a map lookup per field.
func (s *Signature) MapFields(vals []any, pos []int, dst []float32) error {
	p, err := s.float32Plan(dst)
	if err != nil {
		return err
	}
	if len(pos) != len(p.cols) {
		return fmt.Errorf("inference: %d positions for %d input fields (use Positions of this signature)", len(pos), len(p.cols))
	}
	return p.mapFields(vals, pos, float32Bytes(dst[:p.width]), nil)
}

func (s *Signature) float32Plan(dst []float32) (*mapPlan, error) {
	p := s.plan
	switch {
	case p == nil:
		return nil, ErrNotValidated
	case !p.float32Only:
		return nil, ErrNotFloat32
	case len(dst) < p.width:
		return nil, fmt.Errorf("inference: row buffer has %d columns, signature needs %d", len(dst), p.width)
	}
	return p, nil
}

// MapRecordInto maps one record (as MapRow takes it) into r, for any
// signature. It does not allocate once r has grown to the signature's size
// (or unless it fails), and is safe for concurrent use as long as each
// caller has its own r.
func (s *Signature) MapRecordInto(rec map[string]any, r *Row) error {
	p := s.plan
	if p == nil {
		return ErrNotValidated
	}
	r.fit(p)
	return p.mapRecord(rec, r.num, r.str)
}

// MapFieldsInto is MapRecordInto for a record given as values in the order
// of the names that Positions turned into pos.
func (s *Signature) MapFieldsInto(vals []any, pos []int, r *Row) error {
	p := s.plan
	if p == nil {
		return ErrNotValidated
	}
	if len(pos) != len(p.cols) {
		return fmt.Errorf("inference: %d positions for %d input fields (use Positions of this signature)", len(pos), len(p.cols))
	}
	r.fit(p)
	return p.mapFields(vals, pos, r.num, r.str)
}

// Positions returns where each input field of the signature is in names
// (-1 where it is absent), for MapFields over records whose fields come in
// that order (a decoded record's schema order). Compute it once per schema.
func (s *Signature) Positions(names []string) []int {
	p := s.plan
	if p == nil {
		return nil
	}
	pos := make([]int, len(p.cols))
	for i := range p.cols {
		pos[i] = -1
		for j, name := range names {
			if name == p.cols[i].field {
				pos[i] = j
				break
			}
		}
	}
	return pos
}

func (p *mapPlan) mapRecord(rec map[string]any, num []byte, str []string) error {
	for i := range p.cols {
		c := &p.cols[i]
		if err := c.mapValue(rec[c.field], num, str); err != nil {
			return err
		}
	}
	return nil
}

func (p *mapPlan) mapFields(vals []any, pos []int, num []byte, str []string) error {
	for i := range p.cols {
		c := &p.cols[i]
		var v any
		if j := pos[i]; j >= 0 && j < len(vals) {
			v = vals[j]
		}
		if err := c.mapValue(v, num, str); err != nil {
			return err
		}
	}
	return nil
}
