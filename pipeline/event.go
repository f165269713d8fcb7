package pipeline

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/dlq"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// event is one input message on its way through the worker. It is owned by
// one stage at a time; the writer's completion callback is its last owner.
type event struct {
	msg    kafka.Message
	fields schemas.Fields // the decoded record, set by setFields: the one shape it has here
	// Read from the record once, at decode: the emit stage and the
	// writer's completion need them for every event.
	eventID, entityID string
	evTime            time.Time
	sig               *inference.Signature // signature row was mapped with
	row               inference.Row
	fetched           time.Time

	// reply is set for a synchronous request (Predict): the event is
	// answered there instead of being produced or dead-lettered.
	reply chan<- *event

	// Set when the event is dead-lettered instead of predicted.
	dlqClass dlq.Class
	dlqErr   error

	// Set by inference.
	scores     []float32
	model      *inference.Model
	inferStart time.Time
	inferTook  time.Duration
	batchSize  int
	shadow     *shadowResult // set when a shadow version also scored it
	score      float32       // the output's score, for the Observer
}

// setFields sets the decoded record as fields, and the fields read from it
// at the positions p found in its schema; it returns a dead-letter class
// when one of them cannot be read.
func (e *event) setFields(f schemas.Fields, p *fieldPlan) dlq.Class {
	e.fields = f
	at := func(i int) any {
		if i < 0 {
			return nil
		}
		return f.Values[i]
	}
	return e.identify(p.names, at(p.id), at(p.entity), at(p.time))
}

// identify sets the event's id, entity id and event time from the values of
// the fields f names (nil when absent or null). Without an id the event is
// named by its topic, partition and offset; without an entity id it takes
// the message key; without an event time, the message timestamp. A value
// of a type that cannot be read as one is a wrong_type error.
func (e *event) identify(f Fields, id, entity, at any) dlq.Class {
	var ok bool
	if e.eventID, ok = idString(id); !ok {
		return e.fieldError("event_id", f.EventID, id, "a string, an integer or bytes")
	}
	if id == nil && e.msg.Topic != "" {
		b := make([]byte, 0, len(e.msg.Topic)+24)
		b = append(append(b, e.msg.Topic...), '/')
		b = append(strconv.AppendInt(b, int64(e.msg.Partition), 10), '/')
		e.eventID = string(strconv.AppendInt(b, e.msg.Offset, 10))
	}
	if e.entityID, ok = idString(entity); !ok {
		return e.fieldError("entity_id", f.EntityID, entity, "a string, an integer or bytes")
	}
	if entity == nil {
		e.entityID = string(e.msg.Key)
	}
	switch t := at.(type) {
	case time.Time:
		e.evTime = t
	case int64:
		e.evTime = time.UnixMilli(t)
	case string:
		var err error
		if e.evTime, err = time.Parse(time.RFC3339Nano, t); err != nil {
			e.dlqErr = &inference.MapError{Field: f.EventTime, Class: dlq.WrongType,
				Detail: fmt.Sprintf("%q is not an RFC 3339 time (pipeline.fields.event_time)", t)}
			return dlq.WrongType
		}
	case nil:
		e.evTime = e.msg.Time
	default:
		return e.fieldError("event_time", f.EventTime, at, "a timestamp-millis or -micros, a long of epoch milliseconds or an RFC 3339 string")
	}
	return ""
}

// idString reads an id field: a string, an integer in decimal, or bytes
// (a fixed uuid, say) in hex.
func idString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case []byte:
		return hex.EncodeToString(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	}
	return "", false
}

// fieldError keeps a wrong_type error of the field the config key
// pipeline.fields.<key> names.
func (e *event) fieldError(key, field string, v any, want string) dlq.Class {
	e.dlqErr = &inference.MapError{Field: field, Class: dlq.WrongType,
		Detail: fmt.Sprintf("got %T, want %s (pipeline.fields.%s)", v, want, key)}
	return dlq.WrongType
}

// fieldPlan is where one writer schema keeps the fields the worker reads,
// for the model signature it was made for. Each decode goroutine keeps
// its own, by schema id.
type fieldPlan struct {
	sig              *inference.Signature
	pos              []int // sig.Positions of the schema's names
	names            Fields
	id, entity, time int // the event id, entity id and event time fields (-1: absent)
}

func newFieldPlan(names []string, sig *inference.Signature, f Fields) *fieldPlan {
	p := &fieldPlan{sig: sig, pos: sig.Positions(names), names: f, id: -1, entity: -1, time: -1}
	for i, n := range names {
		if n == f.EventID {
			p.id = i
		}
		if n == f.EntityID {
			p.entity = i
		}
		if n == f.EventTime {
			p.time = i
		}
	}
	return p
}
