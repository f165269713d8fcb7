package schemas

import (
	"bytes"
	"net/http"
	"os"
	"testing"
)

// TestPredictionSchemaEvolvesCompatibly checks the Prediction schema
// against the version before named outputs (testdata/prediction_v1.avsc):
// a reader of either can read records of the other (FULL compatibility),
// so consumers of the predictions topic keep working across the upgrade,
// in both directions.
func TestPredictionSchemaEvolvesCompatibly(t *testing.T) {
	v1, err := os.ReadFile("testdata/prediction_v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	old, err := parseSchema(string(v1))
	if err != nil {
		t.Fatal(err)
	}
	next, err := parseSchema(PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	if problems := checkCompat(CompatFull, next, []*node{old}); len(problems) != 0 {
		t.Fatalf("the new Prediction schema is not FULL compatible with the old one: %v", problems)
	}
	// Removing the default breaks it: the check can fail.
	noDefault := bytes.Replace([]byte(PredictionSchema()), []byte(`"default": {}, "doc": "Outputs`), []byte(`"doc": "Outputs`), 1)
	broken, err := parseSchema(string(noDefault))
	if err != nil {
		t.Fatal(err)
	}
	if problems := checkCompat(CompatBackward, broken, []*node{old}); len(problems) == 0 {
		t.Fatal("a new field without a default passed the backward check")
	}

	// A registry at FULL compatibility takes the new version after the old.
	reg := startRegistry(t)
	req, err := http.NewRequestWithContext(t.Context(), "PUT", reg.http.URL+"/config", bytes.NewReader([]byte(`{"compatibility":"FULL"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /config: %s", resp.Status)
	}
	if _, err := reg.client.Register(t.Context(), "predictions-value", string(v1)); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.client.Register(t.Context(), "predictions-value", PredictionSchema()); err != nil {
		t.Fatalf("registering the new Prediction schema after the old at FULL: %v", err)
	}
}
