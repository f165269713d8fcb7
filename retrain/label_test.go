package retrain

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
	classes := DemoClasses()
	tests := []struct {
		l    Label
		want int
	}{
		{Label{Class: 1}, 1},
		{Label{Class: -1, Name: "legit"}, 0},
		{Label{Class: 2}, -1},
		{Label{Class: -1, Name: "chargeback"}, -1},
	}
	for _, tt := range tests {
		got, err := tt.l.ClassIndex(classes)
		if got != tt.want || (err != nil) != (tt.want < 0) {
			t.Errorf("%+v: %d, %v; want %d", tt.l, got, err, tt.want)
		}
	}
}

// TestLabelRoundTrip encodes labels with the schema registry's encoder and
// reads them back as the retrainer does.
func TestLabelRoundTrip(t *testing.T) {
	e := newRTEnv(t)
	r := e.retrainer(t, Config{})
	at := time.Now().UTC().Truncate(time.Millisecond)
	for _, l := range []Label{{EventID: "a", Class: 1, Time: at}, {EventID: "b", Class: -1, Name: "legit", Time: at}} {
		framed, err := e.labelEnc.Append(nil, l.Native())
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.decode(t.Context(), framed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseLabel(rec)
		if err != nil || !reflect.DeepEqual(got, l) {
			t.Fatalf("read back %+v, %v; want %+v", got, err, l)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	d := Config{}.WithDefaults()
	if d.Policy != PolicyManual || d.MinRows != 2000 || d.BufferSize != 50000 || d.FeatureTTL != time.Hour ||
		d.Group != "sluice-retrainer" || d.LabelsGroup != "sluice-retrainer-labels" || len(d.Train.Hidden) != 1 ||
		d.Train.Holdout != 0.05 || d.RequestsTopic != "retrain-requests" || d.LabelsTopic != "labels" {
		t.Fatalf("defaults %+v", d)
	}
	tests := []struct {
		name string
		cfg  Config
		key  string
	}{
		{"defaults", Config{}, ""},
		{"auto", Config{Policy: PolicyAuto}, ""},
		{"bad policy", Config{Policy: "sometimes"}, "policy"},
		{"min rows", Config{MinRows: 5}, "min_rows"},
		{"buffer under min rows", Config{MinRows: 3000, BufferSize: 2000}, "buffer_size"},
		{"holdout", Config{Holdout: 0.9}, "holdout"},
		{"feature ttl", Config{FeatureTTL: time.Millisecond}, "feature_ttl"},
		{"same topics", Config{LabelsTopic: "retrain-requests"}, "requests_topic"},
		{"same groups", Config{LabelsGroup: "sluice-retrainer"}, "group"},
		{"train", Config{Train: TrainConfig{Hidden: []int{0}}}, "train"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("err %v, want one naming %s", err, tt.key)
			}
		})
	}
	if _, err := ParsePolicy("auto"); err != nil {
		t.Fatal(err)
	}
}
