package schemas

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/linkedin/goavro/v2"
)

// Encoder writes maps as Confluent-framed Avro records of one registered
// schema. Values are the same Go types Decoder returns; for a top-level field
// whose type is a union of null and one other type, the plain value (or nil)
// is accepted as well as goavro's map[string]any{"double": v}. Deeper
// unions take goavro's form. An Encoder is safe for concurrent use.
type Encoder struct {
	id       int32
	subject  string
	codec    *goavro.Codec
	nullable []nullableField
	scratch  sync.Pool // *wrapScratch
}

type nullableField struct {
	name   string // field name
	branch string // goavro's name of the non-null branch
}

// NewEncoder registers schema under subject (or finds it registered) and
// returns an encoder that frames records with its id.
func NewEncoder(ctx context.Context, c *Client, subject, schema string) (*Encoder, error) {
	codec, err := newCodec(schema)
	if err != nil {
		return nil, err
	}
	root, err := parseSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", err)
	}
	if root.kind != kRecord {
		return nil, errors.New("schemas: encoder schema is not an avro record")
	}
	id, err := c.Register(ctx, subject, schema)
	if err != nil {
		return nil, err
	}
	e := &Encoder{id: id, subject: subject, codec: codec}
	for _, f := range root.fields {
		if u := f.node; u.kind == kUnion && u.nullable >= 0 {
			e.nullable = append(e.nullable, nullableField{name: f.name, branch: u.branches[u.nullable].unionName()})
		}
	}
	return e, nil
}

// ID returns the registry id the encoder frames records with.
func (e *Encoder) ID() int32 { return e.id }

// Append appends native, framed and Avro-encoded, to dst and returns the
// extended slice. On error dst is returned unchanged in length. Passing a
// reused dst[:0] makes encoding allocation-light.
func (e *Encoder) Append(dst []byte, native map[string]any) ([]byte, error) {
	start := len(dst)
	dst = AppendFrame(dst, e.id, nil)
	rec := native
	var s *wrapScratch
	if e.needsWrap(native) {
		s = e.getScratch()
		rec = s.wrap(native, e.nullable)
	}
	out, err := e.codec.BinaryFromNative(dst, rec)
	if s != nil {
		s.reset()
		e.scratch.Put(s)
	}
	if err != nil {
		return dst[:start], fmt.Errorf("encoding record for %s: %w", e.subject, err)
	}
	return out, nil
}

// needsWrap reports whether a nullable field holds a plain value that goavro
// would reject.
func (e *Encoder) needsWrap(native map[string]any) bool {
	for _, f := range e.nullable {
		if v := native[f.name]; v != nil && !isWrapped(v, f) {
			return true
		}
	}
	return false
}

func isWrapped(v any, f nullableField) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	// A record or map value whose only key happens to be the branch's
	// name reads as already wrapped; pass such values in goavro's form.
	_, ok = m[f.branch]
	return ok
}

// wrapScratch is a reusable shallow copy of a record with its nullable
// fields wrapped the way goavro wants.
type wrapScratch struct {
	rec   map[string]any
	wraps []map[string]any
}

func (e *Encoder) getScratch() *wrapScratch {
	if s, ok := e.scratch.Get().(*wrapScratch); ok {
		return s
	}
	s := &wrapScratch{rec: make(map[string]any), wraps: make([]map[string]any, len(e.nullable))}
	for i := range s.wraps {
		s.wraps[i] = make(map[string]any, 1)
	}
	return s
}

func (s *wrapScratch) wrap(native map[string]any, fields []nullableField) map[string]any {
	for k, v := range native {
		s.rec[k] = v
	}
	for i, f := range fields {
		v := native[f.name]
		if v == nil || isWrapped(v, f) {
			continue
		}
		s.wraps[i][f.branch] = v
		s.rec[f.name] = s.wraps[i]
	}
	return s.rec
}

func (s *wrapScratch) reset() {
	clear(s.rec)
	for _, w := range s.wraps {
		clear(w)
	}
}
