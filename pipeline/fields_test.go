package pipeline_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/pipeline"
)

func TestFieldsConfig(t *testing.T) {
	d := pipeline.DefaultConfig()
	if d.Fields != (pipeline.Fields{EventID: "event_id", EntityID: "entity_id", EventTime: "event_time"}) {
		t.Fatalf("default fields %+v", d.Fields)
	}
	if got := (pipeline.Config{}).WithDefaults().Fields; got != d.Fields {
		t.Fatalf("WithDefaults fields %+v", got)
	}
	for _, tt := range []struct {
		f    pipeline.Fields
		want string
	}{
		{pipeline.Fields{EventID: "txn_id", EntityID: "-", EventTime: "ts"}, ""},
		{pipeline.Fields{EventID: "9lives"}, "pipeline.fields.event_id"},
		{pipeline.Fields{EntityID: "user.id"}, "pipeline.fields.entity_id"},
		{pipeline.Fields{EventTime: "at time"}, "pipeline.fields.event_time"},
	} {
		cfg := pipeline.DefaultConfig()
		cfg.Fields = tt.f
		err := cfg.WithDefaults().Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("fields %+v: %v, want %q", tt.f, err, tt.want)
		}
	}
}

// Which fields identify an event is configuration: ids may be strings,
// integers or bytes (in hex), the event time a timestamp-micros, a long of epoch
// milliseconds or an RFC 3339 string; a null time is the message's
// timestamp; a field named "-" is not read; a time that does not parse is
// dead-lettered as wrong_type naming the config key.
func TestEventFields(t *testing.T) {
	at := time.Date(2026, 5, 4, 3, 2, 1, 123456000, time.UTC)
	const x = `{"name": "x0", "type": "double"}, {"name": "x1", "type": "double"}, {"name": "x2", "type": "double"}, {"name": "x3", "type": "double"}`
	features := map[string]any{"x0": 0.1, "x1": 0.2, "x2": 0.3, "x3": 0.4}
	with := func(extra map[string]any) map[string]any {
		rec := map[string]any{}
		for k, v := range features {
			rec[k] = v
		}
		for k, v := range extra {
			rec[k] = v
		}
		return rec
	}

	t.Run("integers, bytes and micros", func(t *testing.T) {
		s := serve(t, "torch_softmax", "ints", `{"type": "record", "name": "I", "fields": [
  {"name": "event_id", "type": "long"}, {"name": "entity_id", "type": {"type": "fixed", "name": "U", "size": 2}},
  {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-micros"}}, `+x+`]}`, pipeline.Config{})
		s.publish(t, []map[string]any{with(map[string]any{"event_id": int64(1) << 40, "entity_id": []byte{0xbe, 0xef}, "event_time": at})})
		p := s.predictions(t, 1)["k0"]
		if p["event_id"] != strconv.FormatInt(1<<40, 10) || p["entity_id"] != "beef" || !p["event_time"].(time.Time).Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("event_id %v entity_id %v event_time %v", p["event_id"], p["entity_id"], p["event_time"])
		}
	})

	t.Run("epoch millis", func(t *testing.T) {
		s := serve(t, "torch_softmax", "millis", `{"type": "record", "name": "M", "fields": [
  {"name": "id", "type": "string"}, {"name": "ms", "type": "long"}, `+x+`]}`,
			pipeline.Config{Fields: pipeline.Fields{EventID: "id", EventTime: "ms"}})
		s.publish(t, []map[string]any{with(map[string]any{"id": "a-1", "ms": at.UnixMilli()})})
		p := s.predictions(t, 1)["k0"]
		if p["event_id"] != "a-1" || p["entity_id"] != "k0" || !p["event_time"].(time.Time).Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("event_id %v entity_id %v event_time %v", p["event_id"], p["entity_id"], p["event_time"])
		}
	})

	t.Run("RFC 3339, null, unreadable, not read", func(t *testing.T) {
		s := serve(t, "torch_softmax", "strings", `{"type": "record", "name": "S", "fields": [
  {"name": "event_id", "type": "string"}, {"name": "when", "type": ["null", "string"]}, `+x+`]}`,
			pipeline.Config{Fields: pipeline.Fields{EventID: pipeline.NoField, EventTime: "when"}})
		before := s.publish(t, []map[string]any{
			with(map[string]any{"event_id": "ignored", "when": at.Format(time.RFC3339Nano)}),
			with(map[string]any{"event_id": "ignored", "when": nil}),
			with(map[string]any{"event_id": "ignored", "when": "yesterday"}),
		})
		preds := s.predictions(t, 2)
		if p := preds["k0"]; p["event_id"] != "strings/0/0" || !p["event_time"].(time.Time).Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("k0: event_id %v event_time %v, want strings/0/0 and the RFC 3339 time", p["event_id"], p["event_time"])
		}
		if got := preds["k1"]["event_time"].(time.Time); got.Before(before) || got.After(time.Now()) {
			t.Fatalf("k1: event_time %v, want the message timestamp", got)
		}
		dl := s.env.Read("strings.dlq", 1, 30*time.Second, 100*time.Millisecond)
		if len(dl) != 1 || string(dl[0].Msg.Key) != "k2" || header(dl[0].Msg, "sluice.error.class") != "wrong_type" ||
			!strings.Contains(header(dl[0].Msg, "sluice.error.message"), "pipeline.fields.event_time") {
			t.Fatalf("dead letters %+v, want k2 as wrong_type naming pipeline.fields.event_time", dl)
		}
	})
}
