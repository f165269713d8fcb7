package schemas

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/sluice-ml/sluice/dlq"
)

// Decoder turns Confluent-framed Avro records into maps, using the schema the
// writer framed them with, so records written with older and newer versions
// of a schema all read by field name: a field the writer's version lacks is
// absent from the map, a field it adds is present.
//
// Field values are what goavro returns, with nullable unions unwrapped:
//
//	null                          nil
//	boolean                       bool
//	int, long                     int32, int64
//	float, double                 float32, float64
//	string, bytes                 string, []byte
//	enum                          string (the symbol)
//	fixed                         []byte
//	array of float, of double     []float32, []float64
//	other arrays, map             []any, map[string]any
//	record                        map[string]any
//	["null", X] or [X, "null"]    nil or the value of X (unwrapped)
//	other unions                  map[string]any{branch name: value}
//	timestamp-millis/micros       time.Time (UTC)
//	date                          time.Time (UTC)
//	time-millis/micros            time.Duration
//	decimal                       *big.Rat
//
// Codecs are built once per schema id and then read without locks. Schemas
// of flat records (primitives, enums, fixed, nullable unions and arrays of
// those, see fastDecoder) also get a compiled decoder that reads the same
// values without goavro, with less CPU and fewer allocations. An id the
// registry calls unknown stays unknown for 10s without asking again. A
// Decoder is safe for concurrent use.
type Decoder struct {
	client   *Client
	maxBytes int
	codecs   sync.Map // int32 → *codecEntry
	unknown  unknownIDs
	goavro   bool // tests: always take the goavro path
}

type codecEntry struct {
	codec *goavro.Codec
	root  *node
	names []string     // the record's field names, in schema order
	fast  *fastDecoder // nil: the schema needs goavro
	err   error        // the schema cannot be used; cached because ids are immutable
}

// NewDecoder returns a decoder that fetches writer schemas from c and rejects
// records longer than maxBytes (DefaultMaxBytes when maxBytes <= 0). A nil c
// makes every id unknown.
func NewDecoder(c *Client, maxBytes int) *Decoder {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Decoder{client: c, maxBytes: maxBytes}
}

// Decode decodes one framed record and returns its fields and the schema id
// it was framed with. A record that cannot be read gives a *DecodeError whose
// Class says why (dead-letter it); a registry that cannot be reached gives an
// error matching ErrRegistryUnavailable and no DecodeError (retry it).
func (d *Decoder) Decode(ctx context.Context, framed []byte) (rec map[string]any, schemaID int32, err error) {
	e, id, body, err := d.open(ctx, framed)
	if err != nil {
		return nil, id, err
	}
	if e.fast != nil && !d.goavro {
		rec, err = e.fast.decode(body)
	} else {
		rec, err = e.decodeGoavro(body)
	}
	if err != nil {
		return nil, id, decodeErr(dlq.Decode, fmt.Errorf("schema %d: %w", id, err))
	}
	return rec, id, nil
}

// Fields is a decoded record as its writer schema's field names and their
// values in schema order: what Decode's map holds, without the map. Names
// is shared by every record of one schema id and must not be modified;
// Values belongs to the record.
type Fields struct {
	Names  []string
	Values []any
}

// Map returns the record as Decode returns it.
func (f Fields) Map() map[string]any {
	m := make(map[string]any, len(f.Names))
	for i, name := range f.Names {
		m[name] = f.Values[i]
	}
	return m
}

// DecodeFields is Decode returning the record as Fields. Schemas the
// compiled decoder covers are read straight into the values, which costs
// less than building the map; errors are Decode's.
func (d *Decoder) DecodeFields(ctx context.Context, framed []byte) (Fields, int32, error) {
	e, id, body, err := d.open(ctx, framed)
	if err != nil {
		return Fields{}, id, err
	}
	vals := make([]any, len(e.names))
	if e.fast != nil && !d.goavro {
		err = e.fast.decodeValues(body, vals)
	} else {
		var rec map[string]any
		if rec, err = e.decodeGoavro(body); err == nil {
			for i, name := range e.names {
				vals[i] = rec[name]
			}
		}
	}
	if err != nil {
		return Fields{}, id, decodeErr(dlq.Decode, fmt.Errorf("schema %d: %w", id, err))
	}
	return Fields{Names: e.names, Values: vals}, id, nil
}

// open checks the frame and returns the codec of its schema and its body.
func (d *Decoder) open(ctx context.Context, framed []byte) (*codecEntry, int32, []byte, error) {
	switch {
	case len(framed) == 0:
		return nil, 0, nil, decodeErr(dlq.Empty, ErrEmpty)
	case len(framed) > d.maxBytes:
		return nil, 0, nil, decodeErr(dlq.TooLarge, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(framed), d.maxBytes))
	}
	id, body, err := ParseFrame(framed)
	if err != nil {
		class := dlq.ShortFrame
		if errors.Is(err, ErrBadMagic) {
			class = dlq.BadMagic
		}
		return nil, 0, nil, decodeErr(class, err)
	}
	e, err := d.entry(ctx, id)
	if err != nil {
		return nil, id, nil, err
	}
	return e, id, body, nil
}

// entry returns the cached codec of id, fetching and building it on a miss.
func (d *Decoder) entry(ctx context.Context, id int32) (*codecEntry, error) {
	if e, ok := d.codecs.Load(id); ok {
		return e.(*codecEntry).usable(id)
	}
	if d.client == nil || d.unknown.has(id, time.Now()) {
		return nil, decodeErr(dlq.UnknownSchema, fmt.Errorf("schema %d: %w", id, ErrUnknownSchema))
	}
	text, err := d.client.SchemaByID(ctx, id)
	switch {
	case errors.Is(err, ErrUnknownSchema):
		d.unknown.add(id, time.Now())
		return nil, decodeErr(dlq.UnknownSchema, err)
	case err != nil:
		if !errors.Is(err, ErrRegistryUnavailable) {
			err = fmt.Errorf("%w: %w", ErrRegistryUnavailable, err)
		}
		return nil, err
	}
	e, _ := d.codecs.LoadOrStore(id, compile(text))
	return e.(*codecEntry).usable(id)
}

// preload caches the codec of a schema under id without asking a registry.
func (d *Decoder) preload(id int32, schema string) error {
	e := compile(schema)
	d.codecs.Store(id, e)
	return e.err
}

func (e *codecEntry) usable(id int32) (*codecEntry, error) {
	if e.err != nil {
		return nil, decodeErr(dlq.Decode, fmt.Errorf("schema %d: %w", id, e.err))
	}
	return e, nil
}

// compile builds the goavro codec and our node tree of a writer schema.
func compile(text string) *codecEntry {
	codec, err := newCodec(text)
	if err != nil {
		return &codecEntry{err: err}
	}
	root, err := parseSchema(text)
	if err != nil {
		return &codecEntry{err: fmt.Errorf("reading schema: %w", err)}
	}
	if root.kind != kRecord {
		return &codecEntry{err: errors.New("schema is not an avro record")}
	}
	names := make([]string, len(root.fields))
	for i, f := range root.fields {
		names[i] = f.name
	}
	return &codecEntry{codec: codec, root: root, names: names, fast: compileFast(root)}
}

// newCodec is goavro.NewCodec with its panics on malformed schemas turned
// into errors.
func newCodec(text string) (c *goavro.Codec, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("invalid avro schema: %v", r)
		}
	}()
	c, err = goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("invalid avro schema: %w", err)
	}
	return c, nil
}

func (e *codecEntry) decodeGoavro(body []byte) (rec map[string]any, err error) {
	if e.root.risky {
		if err := guardBody(e.root, body); err != nil {
			return nil, err
		}
	}
	defer func() {
		if r := recover(); r != nil {
			rec, err = nil, fmt.Errorf("avro decoder panicked: %v", r)
		}
	}()
	v, rest, err := e.codec.NativeFromBinary(body)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes after the record", len(rest))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decoded %T, not a record", v)
	}
	normalize(m, e.root)
	return m, nil
}
