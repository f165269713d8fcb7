package retrain

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/drift"
	"github.com/sluice-ml/sluice/schemas"
)

// ParseRequest reads RetrainRequested records written with the current
// schema (every field back) and with the first one (kind drift, no onset,
// no windows), both through the schema registry as the retrainer reads
// them.
func TestParseRequestSchemas(t *testing.T) {
	e := newRTEnv(t)
	ctx := t.Context()
	dec := schemas.NewDecoder(e.schemas, 0)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	full := &drift.RetrainRequest{
		EventID: "q1", Model: "fraud", Version: "3", Reason: "live AUC fell", Kind: drift.KindQuality,
		WindowIDs: []string{"e-2", "e-3"}, Onset: at.Add(2 * time.Second), RequestedAt: at.Add(time.Minute),
		Windows: []drift.WindowSpan{
			{ID: "e-1", Start: at, End: at.Add(time.Second), Events: 500},
			{ID: "e-2", Start: at.Add(2 * time.Second), End: at.Add(3 * time.Second), Events: 501, Flagged: true},
			{ID: "e-3", Start: at.Add(4 * time.Second), End: at.Add(5 * time.Second), Events: 502, Flagged: true},
		},
		Quality: &drift.QualityDrop{Metric: "auc", Live: 0.61, Reference: 0.88, Margin: 0.05, Labelled: 502},
	}
	v, err := e.reqEnc.Append(nil, full.Native())
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := dec.Decode(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRequest(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{EventID: "q1", Model: "fraud", Version: "3", Reason: "live AUC fell", WindowIDs: full.WindowIDs,
		Kind: drift.KindQuality, Onset: full.Onset, Windows: full.Windows, Quality: full.Quality, RequestedAt: full.RequestedAt}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}

	old, err := os.ReadFile("../drift/testdata/retrain_requested.v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	oldEnc, err := schemas.NewEncoder(ctx, e.schemas, "old-requests-value", string(old))
	if err != nil {
		t.Fatal(err)
	}
	native := full.Native()
	for _, k := range []string{"kind", "onset", "windows", "quality"} {
		delete(native, k)
	}
	if v, err = oldEnc.Append(nil, native); err != nil {
		t.Fatal(err)
	}
	if rec, _, err = dec.Decode(ctx, v); err != nil {
		t.Fatal(err)
	}
	if got, err = ParseRequest(rec); err != nil {
		t.Fatal(err)
	}
	if got.Kind != drift.KindDrift || !got.Onset.IsZero() || got.Windows != nil || got.Quality != nil || got.EventID != "q1" {
		t.Fatalf("an old request read as %+v", got)
	}
	if !TrainFrom(got).IsZero() {
		t.Fatal("an old request has a start")
	}
}
