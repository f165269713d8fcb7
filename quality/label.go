package quality

import (
	"errors"
	"fmt"
	"time"
)

// LabelSchema is the Avro schema of a Label (record sluice.Label), the text
// of schemas/avro/label.avsc (a test keeps them equal).
const LabelSchema = `{
  "type": "record",
  "name": "Label",
  "namespace": "sluice",
  "doc": "The ground truth of one scored event, known later; on the labels topic, keyed by event_id. The retrainer joins it with the features the workers kept for that event, and the quality service with the event's predictions.",
  "fields": [
    {"name": "event_id", "type": "string", "doc": "The event_id of the input event the label belongs to."},
    {"name": "label", "type": ["null", "int"], "default": null, "doc": "The true class as an index into the model's classes; set this or label_name."},
    {"name": "label_name", "type": ["null", "string"], "default": null, "doc": "The true class by name (one of the model's classes), when label is null."},
    {"name": "label_time", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When the ground truth became known."},
    {"name": "value", "type": ["null", "double"], "default": null, "doc": "The true value, for a model that outputs a score (regression); set instead of label and label_name."}
  ]
}
`

// ErrBadLabel is wrapped by the errors of labels that cannot be used.
var ErrBadLabel = errors.New("quality: bad label")

// Label is the ground truth of one event: its class by index or, when
// Class is negative, by Name; or, for a score model, its Value. It is a
// plain value.
type Label struct {
	EventID string
	// Class is the index of the true class in the model's classes, or -1
	// when the label names its class or gives a value.
	Class int
	// Name is the true class by name; used when Class is negative.
	Name string
	// Time is when the ground truth became known.
	Time time.Time
	// Value is the true value of a score model's output, when HasValue.
	Value    float64
	HasValue bool
}

// Native returns l as a goavro native map for LabelSchema, ready for a
// schemas.Encoder. It is safe for concurrent use.
func (l Label) Native() map[string]any {
	rec := map[string]any{
		"event_id":   l.EventID,
		"label":      nil,
		"label_name": nil,
		"label_time": l.Time,
	}
	switch {
	case l.Class >= 0:
		rec["label"] = int32(l.Class)
	case l.Name != "":
		rec["label_name"] = l.Name
	}
	if l.HasValue {
		rec["value"] = l.Value
	}
	return rec
}

// ParseLabel reads a decoded Label record (as schemas.Decoder returns it).
// It returns an error wrapping ErrBadLabel when the event id is empty,
// none of label, label_name and value is set, or label is negative; label
// wins over label_name when both are set. It is safe for concurrent use.
func ParseLabel(rec map[string]any) (Label, error) {
	l := Label{Class: -1}
	var ok bool
	if l.EventID, ok = rec["event_id"].(string); !ok || l.EventID == "" {
		return l, fmt.Errorf("%w: no event_id", ErrBadLabel)
	}
	switch v := rec["label"].(type) {
	case int32:
		l.Class = int(v)
	case int64:
		l.Class = int(v)
	case int:
		l.Class = v
	case nil:
		l.Name, _ = rec["label_name"].(string)
	default:
		return l, fmt.Errorf("%w: event %s: label is a %T", ErrBadLabel, l.EventID, v)
	}
	l.Value, l.HasValue = rec["value"].(float64)
	if l.Class < -1 {
		return l, fmt.Errorf("%w: event %s: label %d is negative", ErrBadLabel, l.EventID, l.Class)
	}
	if l.Class == -1 && l.Name == "" && !l.HasValue {
		return l, fmt.Errorf("%w: event %s: none of label, label_name and value is set", ErrBadLabel, l.EventID)
	}
	l.Time, _ = rec["label_time"].(time.Time)
	return l, nil
}

// ClassIndex returns the index of l's class in classes: Class when it is
// in range, or the position of Name. It is safe for concurrent use.
func (l Label) ClassIndex(classes []string) (int, error) {
	if l.Class < 0 && l.Name == "" {
		return -1, fmt.Errorf("%w: event %s: a value label, not a class", ErrBadLabel, l.EventID)
	}
	if l.Class >= 0 {
		if l.Class >= len(classes) {
			return -1, fmt.Errorf("%w: event %s: class %d, the model has %d classes", ErrBadLabel, l.EventID, l.Class, len(classes))
		}
		return l.Class, nil
	}
	for i, c := range classes {
		if c == l.Name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("%w: event %s: class %q is not one of %v", ErrBadLabel, l.EventID, l.Name, classes)
}
