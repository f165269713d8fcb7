package quality

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLabelSchemaMatchesFile(t *testing.T) {
	b, err := os.ReadFile("../schemas/avro/label.avsc")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != strings.TrimSpace(LabelSchema) {
		t.Fatal("LabelSchema differs from schemas/avro/label.avsc")
	}
}

func TestParseLabel(t *testing.T) {
	at := time.UnixMilli(1_780_000_000_000).UTC()
	tests := []struct {
		name string
		rec  map[string]any
		want Label
		bad  bool
	}{
		{"class index", map[string]any{"event_id": "e1", "label": int32(1), "label_name": nil, "label_time": at},
			Label{EventID: "e1", Class: 1, Time: at}, false},
		{"class name", map[string]any{"event_id": "e2", "label": nil, "label_name": "legit", "label_time": at},
			Label{EventID: "e2", Class: -1, Name: "legit", Time: at}, false},
		{"index wins", map[string]any{"event_id": "e3", "label": int32(0), "label_name": "fraud", "label_time": at},
			Label{EventID: "e3", Class: 0, Time: at}, false},
		{"no event id", map[string]any{"label": int32(1)}, Label{}, true},
		{"no class", map[string]any{"event_id": "e4", "label": nil, "label_name": nil}, Label{}, true},
		{"negative", map[string]any{"event_id": "e5", "label": int32(-2)}, Label{}, true},
		{"wrong type", map[string]any{"event_id": "e6", "label": "1"}, Label{}, true},
		{"value", map[string]any{"event_id": "e7", "label": nil, "label_name": nil, "label_time": at, "value": 12.5},
			Label{EventID: "e7", Class: -1, Time: at, Value: 12.5, HasValue: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLabel(tt.rec)
			if tt.bad {
				if !errors.Is(err, ErrBadLabel) {
					t.Fatalf("err %v, want ErrBadLabel", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestLabelClassIndex(t *testing.T) {
	classes := []string{"legit", "fraud"}
	tests := []struct {
		l    Label
		want int
	}{
		{Label{Class: 1}, 1},
		{Label{Class: -1, Name: "legit"}, 0},
		{Label{Class: 2}, -1},
		{Label{Class: -1, Name: "chargeback"}, -1},
		{Label{Class: -1, Value: 1, HasValue: true}, -1},
	}
	for _, tt := range tests {
		got, err := tt.l.ClassIndex(classes)
		if got != tt.want || (err != nil) != (tt.want < 0) {
			t.Errorf("%+v: %d, %v; want %d", tt.l, got, err, tt.want)
		}
	}
}
