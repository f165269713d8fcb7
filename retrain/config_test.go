package retrain

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/training"
)

// TestLabelRoundTrip encodes labels with the schema registry's encoder and
// reads them back as the retrainer does.
func TestLabelRoundTrip(t *testing.T) {
	e := newRTEnv(t)
	r := e.retrainer(t, Config{})
	at := time.Now().UTC().Truncate(time.Millisecond)
	for _, l := range []quality.Label{{EventID: "a", Class: 1, Time: at}, {EventID: "b", Class: -1, Name: "legit", Time: at}} {
		framed, err := e.labelEnc.Append(nil, l.Native())
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.decode(t.Context(), framed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := quality.ParseLabel(rec)
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
		{"train", Config{Train: training.TrainConfig{Hidden: []int{0}}}, "train"},
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
