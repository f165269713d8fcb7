package registry_test

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/sluice-ml/sluice/registry"
)

func TestModelEventSchemaFile(t *testing.T) {
	b, err := os.ReadFile("../schemas/avro/model_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != strings.TrimSpace(registry.ModelEventSchema) {
		t.Fatal("registry.ModelEventSchema differs from schemas/avro/model_event.avsc")
	}
}

// TestEventNative encodes every kind of event with the ModelEvent schema
// and reads it back.
func TestEventNative(t *testing.T) {
	codec, err := goavro.NewCodec(registry.ModelEventSchema)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []registry.Event{
		{ID: "a", Type: registry.EventRegistered, Model: "fraud", Version: "1", Stage: registry.StageCandidate, SHA256: "ab", Time: at},
		{ID: "b", Type: registry.EventPromoted, Model: "fraud", Version: "2", Stage: registry.StageCanary, Previous: "1", Percent: 20, Time: at},
		{ID: "c", Type: registry.EventRolledBack, Model: "fraud", Version: "1", Stage: registry.StageProduction, Previous: "2", Reason: "bad recall", Time: at},
		{ID: "d", Type: registry.EventRefused, Model: "fraud", Version: "3", Stage: registry.StageProduction, Reason: "checksum: …", Worker: "w-1", Time: at},
		{ID: "e", Type: registry.EventSkipped, Model: "fraud", Version: "3", Stage: registry.StageProduction, Reason: "insufficient labelled data since onset", Request: "r1",
			Evidence: map[string]float64{"labelled": 12, "nan": math.NaN()}, Time: at},
		{ID: "f", Type: registry.EventEvaluated, Model: "fraud", Version: "4", Stage: registry.StageCanary, Evidence: map[string]float64{"auc_diff_upper": -0.02}, Time: at},
	}
	for _, ev := range tests {
		t.Run(string(ev.Type), func(t *testing.T) {
			bin, err := codec.BinaryFromNative(nil, ev.Native())
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := codec.NativeFromBinary(bin)
			if err != nil {
				t.Fatal(err)
			}
			rec := back.(map[string]any)
			if rec["type"] != string(ev.Type) || rec["model_version"] != ev.Version || !rec["event_time"].(time.Time).Equal(at) {
				t.Fatalf("read back %v", rec)
			}
			if ev.Previous != "" && rec["previous_version"].(map[string]any)["string"] != ev.Previous {
				t.Fatalf("previous_version = %v", rec["previous_version"])
			}
			if ev.Previous == "" && rec["previous_version"] != nil {
				t.Fatalf("previous_version = %v, want null", rec["previous_version"])
			}
			if ev.Request != "" && rec["request_id"].(map[string]any)["string"] != ev.Request {
				t.Fatalf("request_id = %v", rec["request_id"])
			}
			if len(ev.Evidence) == 0 && rec["evidence"] != nil {
				t.Fatalf("evidence = %v, want null", rec["evidence"])
			}
			if len(ev.Evidence) > 0 {
				got := rec["evidence"].(map[string]any)["map"].(map[string]any)
				for k, v := range ev.Evidence {
					if math.IsNaN(v) {
						if _, ok := got[k]; ok {
							t.Fatalf("evidence kept the NaN %s", k)
						}
					} else if got[k] != v {
						t.Fatalf("evidence %s = %v, want %v", k, got[k], v)
					}
				}
			}
		})
	}
}
